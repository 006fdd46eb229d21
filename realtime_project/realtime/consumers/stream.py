"""A single-stream endpoint (`/ws/notifications/<id>`, `/ws/trending`...):
one connection, one stream, served from the stream's description
(streams/description.py).

It accepts, then checks access (closing with PROTOCOL.md's codes), joins
the stream's group, replays what a resuming client missed (`?since=`) or
sends the snapshot, then the live messages.
"""

import json
import logging

from django.conf import settings

from .. import protocol
from ..cluster.presence import publish_now
from ..cluster.registry import registry
from ..middleware.auth import query_param
from ..ops.metrics import CONNECTIONS_OPEN, CONNECTIONS_REFUSED
from ..streams.access import AccessDenied, ClientError, CloseCode
from ..streams.description import NOTHING_REPLAYED, Stream, Subscription
from ..streams.names import parse_row_id
from .connection import Connection

logger = logging.getLogger(__name__)


class StreamConsumer(Connection):
    """The endpoint of one stream: `StreamConsumer.as_asgi(stream=...)`."""

    def __init__(self, *args, stream: Stream, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = stream
        self.label = stream.kind
        self.subscription: Subscription | None = None

    # --- Connection lifecycle -------------------------------------------

    async def connect(self):
        # Accept first, then close with a code: a refused handshake reaches
        # the client as a bare HTTP 403 it cannot tell apart from others.
        await self.accept()
        stream = self.stream
        raw_id = self.scope["url_route"]["kwargs"].get(stream.id_name) if stream.id_name else None
        try:
            await stream.authorize(self.user, raw_id)
            check_connection_limit(stream, self.user)
        except AccessDenied as denied:
            CONNECTIONS_REFUSED.labels(code=int(denied.code)).inc()
            logger.info("refused %s %s: %s", stream.kind, self.who(), denied.reason)
            await self.close(code=int(denied.code), reason=denied.reason)
            return
        self.start_receiving()
        sub = self.subscription = Subscription(
            stream, int(raw_id) if raw_id is not None else None, user=self.user, channel=self.channel_name
        )
        for group in [sub.group, *self.credential_groups()]:
            await self.join(group)
        self.is_open = True
        self.user_id = self.user.pk if self.signed_in else None
        registry.opened(stream=stream.kind, user_id=self.user_id, per_user=stream.per_user)
        if stream.per_user:
            # Before the client hears anything: from now on it is "online"
            # for the fan-out of every process.
            await publish_now()
        CONNECTIONS_OPEN.labels(stream=stream.kind).inc()
        # The path only: the query string may hold a token or ticket.
        logger.info("connected %s %s %s", stream.kind, self.scope["path"], self.who())
        await self.resume()
        await self.send_snapshot()
        self.go_direct(replayed=bool(sub.replayed_ids))

    async def resume(self) -> None:
        """Replay what the client missed since `?since=<id>`, oldest first.

        The group is joined before the database is read, and this
        connection's live messages are handled only after connect()
        returns: nothing committed in between is lost, and what both the
        replay and a live message carry is sent once (outgoing_text).
        """
        raw = query_param(self.scope, "since")
        if raw is None or not self.stream.resumable:
            return
        try:
            await send_replay(self, self.subscription, raw, stream_field=None)
        except ClientError as refused:
            await self.send_error(refused.code, refused.message)

    async def send_snapshot(self) -> None:
        sub = self.subscription
        for kind, data in await self.stream.snapshot(sub):
            await self.send_message(kind, data, sub.name)

    async def release(self) -> None:
        if self.subscription is not None:
            await self.stream.left(self.subscription)

    def uncount(self) -> None:
        registry.closed(stream=self.stream.kind, user_id=self.user_id)
        CONNECTIONS_OPEN.labels(stream=self.stream.kind).dec()

    async def catch_up(self) -> bool:
        """A stream of rows closes (4429) so that its client resumes from the
        last id it saw, and the replay brings what was lost; the others send
        their snapshot again, which holds the current state."""
        if not self.is_open:
            return False
        if self.stream.resumable:
            await self.shut(CloseCode.TOO_MANY, "live messages may have been lost: resume with since")
        else:
            await self.send_snapshot()
        return True

    # --- Channel layer -> client ------------------------------------------

    def outgoing_text(self, event) -> str | None:
        if not self.is_open or event.get("exclude") == self.channel_name:
            return None
        return without_replayed(self.subscription, event)

    # --- Client -> server -------------------------------------------------

    async def handle(self, kind, message) -> bool:
        handler_name = self.stream.client_messages.get(kind)
        if handler_name is None:
            return False
        await getattr(self.stream, handler_name)(self.subscription, message)
        return True


def check_connection_limit(stream: Stream, user) -> None:
    # One user opening sockets without end would exhaust the server for
    # all. Only their own streams count: trending and engagement are
    # public, and a page watches the counters of every tweet it shows.
    if stream.per_user and user is not None and user.is_authenticated:
        if registry.connections_of(user.pk) >= settings.REALTIME_MAX_CONNECTIONS_PER_USER:
            raise AccessDenied(CloseCode.TOO_MANY, "too many connections for this user")


async def send_replay(
    connection: Connection, sub: Subscription, raw_since, *, stream_field: str | None
) -> None:
    """Send what `sub`'s client missed after row `raw_since` (client input);
    errors about it carry `stream_field`."""
    since = parse_row_id(raw_since)
    if since is None:
        raise ClientError("invalid_since", "since must be the id of the last item seen", stream_field)
    replay = await sub.stream.replay(sub, since)
    if replay is None:
        return
    if replay.truncated:
        await connection.send_error(
            "replay_truncated",
            "too much was missed to replay it all: the newest items follow; reload the rest",
            stream_field,
        )
    for kind, data in replay.frames:
        await connection.send_message(kind, data, sub.name)
    sub.replayed_ids = replay.ids or NOTHING_REPLAYED


def without_replayed(sub: Subscription, event) -> str | None:
    """The event's text for `sub`, without rows its replay already sent;
    None if nothing is left."""
    replayed = sub.replayed_ids
    ids = event.get("ids")
    if not replayed or not ids:
        return event["text"]
    fresh = [row_id for row_id in ids if row_id not in replayed]
    if len(fresh) == len(ids):
        return event["text"]
    if not fresh:
        return None
    frame = json.loads(event["text"])
    data = sub.stream.without_replayed(frame["data"], replayed)
    return protocol.encode(frame["type"], data, sub.name) if data else None


class UnknownStreamConsumer(Connection):
    """Any other /ws/ path: closed with 4404 so a client stops retrying."""

    async def connect(self):
        await self.accept()
        CONNECTIONS_REFUSED.labels(code=int(CloseCode.NOT_FOUND)).inc()
        await self.close(code=int(CloseCode.NOT_FOUND), reason="no such stream")
