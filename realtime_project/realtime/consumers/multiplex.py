"""`/ws/`: one connection per browser tab, holding any number of stream
subscriptions (PROTOCOL.md, "One connection per tab").

Each subscription is served from its stream's description, as the stream's
single-stream endpoint is (stream.py): the same access rules, the same
group, replay and snapshot, the same messages with `stream` added. The
layer's broadcast text already names the stream (streams/names.py), so a
group's message is one frame for every receiver, single-stream and `/ws/`
alike, and is written by delivery.py in the same pass.

A bad subscribe is a `subscribe_error` carrying the code the single-stream
endpoint would have closed with; the connection and its other
subscriptions carry on.
"""

import logging

from django.conf import settings

from .. import protocol
from ..cluster.presence import publish_now
from ..cluster.registry import registry
from ..layers import delivery
from ..ops.metrics import CONNECTIONS_OPEN, SUBSCRIPTIONS_REFUSED
from ..rate_limit import RateLimit
from ..streams.access import AccessDenied, ClientError, CloseCode
from ..streams.catalog import Catalog
from ..streams.description import Subscription
from .connection import Connection
from .stream import check_connection_limit, send_replay, without_replayed

logger = logging.getLogger(__name__)

# How a `/ws/` connection counts in /ws/stats: as a user connection while
# it holds a stream of its user (notifications, feed), else as a global one.
GLOBAL = "multiplex"
OF_USER = "multiplex-user"


class MultiplexConsumer(Connection):
    """The `/ws/` endpoint: `MultiplexConsumer.as_asgi(catalog=...)`."""

    label = "multiplex"
    budgeted_apart = frozenset({"subscribe", "unsubscribe"})

    def __init__(self, *args, catalog: Catalog, **kwargs):
        super().__init__(*args, **kwargs)
        self.catalog = catalog
        # Stream name -> subscription, in the order they were made.
        self.subscriptions: dict[str, Subscription] = {}
        self.counted_as = GLOBAL
        # Subscribing and unsubscribing have a budget of their own, apart
        # from the messages': scrolling a long feed subscribes and ends a
        # tweet's counters for each tweet passing by.
        self.subscribing = RateLimit(
            settings.REALTIME_SUBSCRIBES_PER_SECOND, settings.REALTIME_SUBSCRIBES_BURST
        )

    async def connect(self):
        await self.accept()
        self.start_receiving()
        for group in self.credential_groups():
            await self.join(group)
        self.is_open = True
        self.user_id = self.user.pk if self.signed_in else None
        registry.opened(stream=GLOBAL, user_id=self.user_id, per_user=False)
        CONNECTIONS_OPEN.labels(stream=GLOBAL).inc()
        logger.info("connected %s %s %s", self.label, self.scope["path"], self.who())
        await self.send_message(
            protocol.WELCOME,
            {
                "user_id": str(self.user_id) if self.user_id is not None else None,
                "max_subscriptions": settings.REALTIME_MAX_SUBSCRIPTIONS,
            },
        )
        self.go_direct(replayed=False)

    def uncount(self) -> None:
        registry.closed(stream=self.counted_as, user_id=self.user_id)
        CONNECTIONS_OPEN.labels(stream=GLOBAL).dec()
        for sub in self.subscriptions.values():
            self.count_presence(sub, -1)

    async def release(self) -> None:
        subscriptions, self.subscriptions = list(self.subscriptions.values()), {}
        for sub in subscriptions:
            try:
                await sub.stream.left(sub)
            except Exception:
                logger.exception("ending %s failed", sub.name)

    # --- Client -> server -------------------------------------------------

    async def handle(self, kind, message) -> bool:
        if kind == "subscribe":
            await self.subscribe(message)
            return True
        if kind == "unsubscribe":
            await self.unsubscribe(message)
            return True
        if "stream" not in message:
            return False
        name = stream_name_in(message)
        sub = self.subscriptions.get(name)
        if sub is None:
            raise ClientError("not_subscribed", "subscribe to this stream first", name)
        handler_name = sub.stream.client_messages.get(kind)
        if handler_name is None:
            raise ClientError(
                "unknown_type", f"unsupported message type {kind[:40]!r} on {sub.stream.kind}", name
            )
        try:
            await getattr(sub.stream, handler_name)(sub, message)
        except ClientError as refused:
            refused.stream = name
            raise
        return True

    async def subscribe(self, message) -> None:
        name = stream_name_in(message)
        if name in self.subscriptions:
            # Changes nothing: no second copy of any message, no replay.
            await self.send_message(protocol.SUBSCRIBED, {}, name)
            return
        try:
            sub = await self.admit(name)
        except AccessDenied as denied:
            SUBSCRIPTIONS_REFUSED.labels(code=int(denied.code)).inc()
            await self.send_message(
                protocol.SUBSCRIBE_ERROR, {"code": int(denied.code), "message": denied.reason}, name
            )
            return
        # From the group's join on, its live messages wait behind the
        # `subscribed` and the replay or snapshot, in order.
        delivery.hold(self.receiver)
        try:
            await self.join(sub.group)
            # Keyed by its own name: the client's string is not kept.
            self.subscriptions[sub.name] = sub
            await self.count(sub)
            await self.send_message(protocol.SUBSCRIBED, {}, name)
            since = message.get("since")
            if since is not None and sub.stream.resumable:
                await send_replay(self, sub, since, stream_field=name)
            else:
                for kind, data in await sub.stream.snapshot(sub):
                    await self.send_message(kind, data, name)
        finally:
            if self.is_open:
                self.go_direct(replayed=any(s.replayed_ids for s in self.subscriptions.values()))

    async def admit(self, name: str) -> Subscription:
        """The subscription `name` asks for, or AccessDenied with the code of
        PROTOCOL.md."""
        if not self.subscribing.allow():
            await self.count_strike()
            raise AccessDenied(CloseCode.TOO_MANY, "subscribing too fast: slow down")
        self.rate_strikes = 0
        found = self.catalog.find(name)
        if found is None:
            raise AccessDenied(CloseCode.NOT_FOUND, "no such stream")
        if len(self.subscriptions) >= settings.REALTIME_MAX_SUBSCRIPTIONS:
            raise AccessDenied(
                CloseCode.TOO_MANY, f"at most {settings.REALTIME_MAX_SUBSCRIPTIONS} subscriptions"
            )
        stream, raw_id = found
        await stream.authorize(self.user, raw_id)
        if stream.per_user and self.counted_as == GLOBAL:
            # This tab becomes one of its user's connections.
            check_connection_limit(stream, self.user)
        return Subscription(
            stream, int(raw_id) if raw_id is not None else None, user=self.user, channel=self.channel_name
        )

    async def count_strike(self) -> None:
        # As for messages: a client that keeps subscribing over its budget
        # (a burst's worth of refusals in a row) is disconnected.
        self.rate_strikes += 1
        if self.rate_strikes > settings.REALTIME_SUBSCRIBES_BURST:
            await self.shut(CloseCode.TOO_MANY, "too many subscriptions too fast")

    async def unsubscribe(self, message) -> None:
        name = stream_name_in(message)
        # Counted, never refused: ending a subscription only frees the server.
        self.subscribing.allow()
        sub = self.subscriptions.get(name)
        if sub is not None:
            await self.end(sub)
        await self.send_message(protocol.UNSUBSCRIBED, {}, name)

    async def end(self, sub: Subscription) -> None:
        """End `sub`: nothing of its stream is sent after this returns."""
        await self.leave(sub.group)
        del self.subscriptions[sub.name]
        self.count_presence(sub, -1)
        if self.counted_as == OF_USER and not any(s.stream.per_user for s in self.subscriptions.values()):
            registry.moved(stream=OF_USER, to=GLOBAL, user_id=self.user_id, per_user=False)
            self.counted_as = GLOBAL
        await sub.stream.left(sub)

    async def count(self, sub: Subscription) -> None:
        self.count_presence(sub, +1)
        if sub.stream.per_user:
            if self.counted_as == GLOBAL:
                registry.moved(stream=GLOBAL, to=OF_USER, user_id=self.user_id, per_user=True)
                self.counted_as = OF_USER
            # Before the client hears `subscribed`: from now on its user is
            # "online" on this stream for the fan-out of every process.
            await publish_now()

    def count_presence(self, sub: Subscription, change: int) -> None:
        if sub.stream.per_user and self.user_id is not None:
            if change > 0:
                registry.subscribed(stream=sub.stream.kind, user_id=self.user_id)
            else:
                registry.unsubscribed(stream=sub.stream.kind, user_id=self.user_id)

    # --- Channel layer -> client ------------------------------------------

    def outgoing_text(self, event) -> str | None:
        if not self.is_open or event.get("exclude") == self.channel_name:
            return None
        # Only a stream this connection holds, under its own name.
        sub = self.subscriptions.get(event.get("stream"))
        return without_replayed(sub, event) if sub is not None else None

    async def catch_up(self) -> bool:
        """A subscription to a stream of rows ends (`unsubscribed` with 4429)
        so that its client subscribes again with the last id it saw, and the
        replay brings what was lost; the others get their snapshot again."""
        if not self.is_open:
            return False
        for sub in list(self.subscriptions.values()):
            if sub.stream.resumable:
                await self.end(sub)
                await self.send_message(
                    protocol.UNSUBSCRIBED,
                    {
                        "code": int(CloseCode.TOO_MANY),
                        "message": "live messages may have been lost: resubscribe with since",
                    },
                    sub.name,
                )
            else:
                for kind, data in await sub.stream.snapshot(sub):
                    await self.send_message(kind, data, sub.name)
        return True


def stream_name_in(message: dict) -> str:
    name = message.get("stream")
    if not isinstance(name, str) or not name:
        raise ClientError("invalid_message", '"stream" must be the name of a stream')
    # Echoed back in frames: bounded, whatever the client sent.
    return name[:100]
