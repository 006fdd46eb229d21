"""Send events to groups of WebSocket connections through the channel layer.

Database events go out with `broadcast_on_commit`: the payload is built and
encoded when the service runs, and sent only once the surrounding
transaction commits, so a rollback sends nothing (as Zulip's
`send_event_on_commit`). Ephemeral events that have no database row (typing)
use `broadcast_now`. Only services call these functions, so one grep finds
every source of events. A failed send is logged and never raised: the
database is the source of truth and the request that caused the event must
not fail because a socket could not be told.
"""

import logging
import time
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .. import protocol
from ..ops.metrics import CHANNEL_LAYER_ERRORS
from ..streams.names import ANY_STREAM, stream_of

logger = logging.getLogger(__name__)

# The channel-layer message type every stream consumer handles (-> stream_event).
STREAM_EVENT = "stream.event"


def stream_message(
    kind: str, data: dict, *, stream: str, exclude_channel: str | None = None, ids: list[str] | None = None
) -> dict:
    """Return the channel-layer message carrying the encoded envelope.

    `stream` is the name of the stream it belongs to, in the envelope and
    beside it (ANY_STREAM for a message to several groups, which the layer
    names for each: streams/names.py). `exclude_channel` names one
    connection that must not receive it (the sender of a typing indicator).
    `ids` are the ids of the database rows the message carries, so a
    resuming consumer can drop what its replay sent without decoding the
    text.
    """
    message = {
        "type": STREAM_EVENT,
        "kind": kind,
        "stream": stream,
        "text": protocol.encode(kind, data, stream),
    }
    if exclude_channel:
        message["exclude"] = exclude_channel
    if ids:
        message["ids"] = ids
    return message


async def _group_send_all(groups: list[str], message: dict) -> None:
    layer = get_channel_layer()
    # Stamped when it leaves, for the broadcast latency metric.
    message["sent_at"] = time.time()
    if len(groups) > 1 and hasattr(layer, "group_send_many"):
        await layer.group_send_many(groups, message)  # one round trip (layers/redis_pubsub.py)
        return
    for group in groups:
        await layer.group_send(group, message)


def send_to_groups(groups: list[str], message: dict) -> None:
    """Send `message` to every group now, from synchronous code. Never raise."""
    try:
        async_to_sync(_group_send_all)(groups, message)
    except Exception:
        CHANNEL_LAYER_ERRORS.inc()
        logger.exception("broadcast to %d group(s) failed (first: %s)", len(groups), groups[:1])


def broadcast_on_commit(
    *, groups: Iterable[str], kind: str, data: dict, ids: list[str] | None = None
) -> None:
    """Send `data` as a `kind` message to `groups` once the current transaction
    commits. Send nothing if it rolls back. Outside a transaction, send now."""
    groups = list(groups)
    if not groups:
        return
    stream = stream_of(groups[0]) if len(groups) == 1 else ANY_STREAM
    message = stream_message(kind, data, stream=stream, ids=ids)
    transaction.on_commit(lambda: send_to_groups(groups, message))


async def broadcast_now(*, group: str, kind: str, data: dict, exclude_channel: str | None = None) -> None:
    """Send an ephemeral `kind` message to `group` at once, from async code.

    For events with no database row behind them (typing). Never raise.
    """
    message = stream_message(kind, data, stream=stream_of(group), exclude_channel=exclude_channel)
    message["sent_at"] = time.time()
    try:
        await get_channel_layer().group_send(group, message)
    except Exception:
        CHANNEL_LAYER_ERRORS.inc()
        logger.exception("immediate broadcast of %s to %s failed", kind, group)
