"""The one wire format every server-to-client message uses.

`{"type": kind, "timestamp": ISO-8601 UTC, "data": {...}}` (PROTOCOL.md),
with `"stream": name` second for a stream's messages. Encoding happens
once per message, here, so a broadcast to many sockets serializes one
string and each consumer only writes it.
"""

import json
from datetime import UTC, datetime

NOTIFICATION = "notification"
TRENDING = "trending"
FEED_UPDATE = "feed_update"
ENGAGEMENT_UPDATE = "engagement_update"
TYPING = "typing"
PONG = "pong"
ERROR = "error"
# The `/ws/` connection's own (PROTOCOL.md, "One connection per tab").
WELCOME = "welcome"
SUBSCRIBED = "subscribed"
SUBSCRIBE_ERROR = "subscribe_error"
UNSUBSCRIBED = "unsubscribed"
# A server process that stops (PROTOCOL.md): come back after `after_ms`.
RECONNECT = "reconnect"

KINDS = frozenset(
    {
        NOTIFICATION,
        TRENDING,
        FEED_UPDATE,
        ENGAGEMENT_UPDATE,
        TYPING,
        PONG,
        ERROR,
        WELCOME,
        SUBSCRIBED,
        RECONNECT,
        SUBSCRIBE_ERROR,
        UNSUBSCRIBED,
    }
)


def iso_utc(moment: datetime | None = None) -> str:
    """Return `moment` (default: now) as ISO 8601 in UTC ending in `Z`."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def envelope(kind: str, data: dict, stream: str | None = None) -> dict:
    """Wrap `data` in the envelope for `kind`, stamped with the current time;
    `stream` names the stream it belongs to, if any."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    if stream is None:
        return {"type": kind, "timestamp": iso_utc(), "data": data}
    return {"type": kind, "stream": stream, "timestamp": iso_utc(), "data": data}


def encode(kind: str, data: dict, stream: str | None = None) -> str:
    """Return the JSON text of the envelope for `kind` and `data`."""
    return json.dumps(envelope(kind, data, stream), separators=(",", ":"), ensure_ascii=False)


def error_frame(code: str, message: str, stream: str | None = None) -> str:
    """Return the JSON text of an `error` message with a machine-readable
    `code`; `stream` when the message it answers named one."""
    return encode(ERROR, {"code": code, "message": message}, stream)
