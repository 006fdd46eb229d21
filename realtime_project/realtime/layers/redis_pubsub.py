"""channels-redis' pub/sub layer with one-pass local delivery (REDIS_URL).

It hands a group's `stream.event` to delivery.py, which writes it at once
to every local consumer ready for it; only the rest are queued. A consumer
reads its own channel without a task of its own (inbox, receive_nowait,
forget_channel: see StreamConsumer.serve). Lost pub/sub connections are
noticed by watch.py.
"""

import asyncio
import logging
import time
import uuid

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
    _wrap_close,
)
from channels_redis.utils import create_pool
from redis import asyncio as aioredis

from ..inbox import Inbox
from ..streams.names import addressed
from . import delivery
from .watch import WatchedPubSub

# group_send_many through Redis: groups named per message, so that one
# message stays small (docs/PERFORMANCE.md).
MANY_GROUPS_PER_MESSAGE = 1000

logger = logging.getLogger(__name__)


class _OnePassShard(RedisSingleShardConnection):
    def __init__(self, host, channel_layer):
        # RESP2 unless the host says otherwise. redis-py 8 speaks RESP3 by
        # default, where each pub/sub message goes through a push handler
        # that builds "Push response: " + str(message) for a debug log
        # whether or not it is logged: the payload's repr, per message, which
        # makes each message dearer than as RESP2 (docs/PERFORMANCE.md,
        # item 20); nothing here uses RESP3.
        super().__init__({"protocol": 2, **host}, channel_layer)
        self._subscribed = asyncio.Event()

    def _ensure_redis(self):
        # channels-redis' own, with a pub/sub connection that has the open
        # streams catch up when it comes back after a drop (watch.py).
        if self._redis is None:
            self._redis = aioredis.Redis(connection_pool=create_pool(self.host))
            # What Redis.pubsub() passes (the client's event dispatcher).
            self._pubsub = WatchedPubSub(
                self._redis.connection_pool, event_dispatcher=self._redis._event_dispatcher
            )

    async def subscribe(self, channel):
        await super().subscribe(channel)
        self._subscribed.set()

    async def _do_receiving(self):
        # channels-redis' loop, but while nothing is subscribed it waits for
        # a subscription instead of sleeping 0.1 s: the receiving task starts
        # before the first SUBSCRIBE, and after a spell with no subscriber
        # (the last socket of a process closed) the first message to the next
        # one waited up to 100 ms, which showed in the benchmark's
        # action-to-screen p99 through Redis (docs/PERFORMANCE.md, item 17).
        # Only subscribe() makes the connection subscribed again (redis-py's
        # reconnection restores subscriptions it still has), so the wait
        # needs no timeout;
        # a bare wait also lets flush() cancel the loop at any moment
        # (asyncio.wait_for of Python 3.11 can swallow a cancellation).
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    self._receive_message(message)
                else:
                    self._subscribed.clear()
                    await self._subscribed.wait()
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except BaseException:
                logger.exception("Unexpected exception in receive task")
                await asyncio.sleep(1)

    def _receive_message(self, message):
        # channels-redis puts the serialized bytes in each local channel's
        # queue, and each consumer decodes its own copy; a group message is
        # decoded once here and delivered in one pass.
        if message is None:
            return
        name, data = message["channel"], message["data"]
        if isinstance(name, bytes):
            name = name.decode()
        layer = self.channel_layer
        if name in layer.channels:
            layer.queue_locally(name, data)
            return
        if name in layer.inbox_names:
            layer.receive_for_inbox(data)
            return
        if name == layer.many_groups_channel:
            layer.receive_for_many_groups(data)
            return
        members = [channel for channel in layer.groups.get(name, ()) if channel in layer.channels]
        layer.deliver_to_members(members, data)


class _OnePassLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._shards = [_OnePassShard(shard.host, self) for shard in self._shards]
        # One message to many groups (group_send_many) comes here; every
        # process with a member in any group listens.
        self.many_groups_channel = f"{self.prefix}__many_groups__"
        # This loop layer's own: its channels' names carry it (new_channel).
        self.layer_id = uuid.uuid4().hex[:16]
        self.inbox_names: set[str] = set()

    async def group_add(self, group, channel):
        await super().group_add(group, channel)
        shard = self._get_shard(self.many_groups_channel)
        if self.many_groups_channel not in shard._subscribed_to:
            await shard.subscribe(self.many_groups_channel)

    async def group_discard(self, group, channel):
        await super().group_discard(group, channel)
        if not self.groups:
            await self._get_shard(self.many_groups_channel).unsubscribe(self.many_groups_channel)

    def receive_for_many_groups(self, data: bytes) -> None:
        """Deliver a group_send_many message to this process's members of
        its groups: decoded once, and for each group named as that group's
        stream (streams/names.py), framed and written once for its members."""
        many = self.channel_layer.deserialize(data)
        message, groups = many["message"], self.groups
        for group in many["groups"]:
            members = groups.get(self._get_group_channel_name(group))
            if not members:
                continue
            local = [channel for channel in members if channel in self.channels]
            if local:
                mine = addressed(message, group)
                self.deliver_to_members(local, None, mine)

    def deliver_to_members(self, members: list[str], data: bytes | None, message: dict | None = None) -> None:
        """Write a group message (`data`, or `message` already decoded) at once
        to the local `members` ready for it, decoded once for all of them;
        queue it for the others, serialized, as channels-redis queues."""
        if members and delivery.any_ready(members):
            if message is None:
                message = self.channel_layer.deserialize(data)
            members = delivery.deliver(members, message, now=time.time())
        if members and data is None:
            data = self.channel_layer.serialize(message)
        for channel in members:
            self.queue_locally(channel, data)

    async def _subscribe_to_channel(self, channel):
        # channels-redis' own, with an Inbox for its asyncio.Queue (inbox.py).
        self.channels[channel] = Inbox()
        await self._get_shard(channel).subscribe(channel)

    async def new_channel(self, prefix="specific."):
        """A channel for a consumer of this event loop, reachable by a send()
        from anywhere.

        Its name is `<non-local part>!<unique part>`, Channels' notation of a
        process-specific channel: the non-local part names this loop layer's
        inbox, the one Redis channel it subscribes (once, for all of its
        channels). channels-redis subscribed each channel, so every
        handshake and every close waited its turn under the shard's lock
        (behind publishes), and a reconnection had to subscribe all of them
        again. Here a send() from this loop queues the message at once; from
        another loop or process it is published to the inbox (send), and
        routed here to the channel it names (receive_for_inbox).
        """
        inbox_name = f"{self.prefix}{prefix}{self.layer_id}!"
        self.inbox_names.add(inbox_name)
        await self._subscribe_inbox(inbox_name)
        channel = f"{inbox_name}{uuid.uuid4().hex}"
        self.channels[channel] = Inbox()
        return channel

    async def _subscribe_inbox(self, inbox_name: str) -> None:
        # Once per loop layer (and again after a flush): a handshake after
        # the first waits for no lock.
        shard = self._get_shard(inbox_name)
        if inbox_name not in shard._subscribed_to:
            await shard.subscribe(inbox_name)

    def receive_for_inbox(self, data: bytes) -> None:
        """Queue a message sent to one of this loop's channels from elsewhere
        (`<channel name>` newline `<serialized message>`, see send) for that
        channel; drop it if its consumer has gone, as a closed consumer's
        messages go nowhere through Redis either."""
        name, _, payload = data.partition(b"\n")
        channel = name.decode()
        if channel in self.channels:
            self.queue_locally(channel, payload)

    def _owns(self, channel: str) -> bool:
        """Whether `channel` is one of this loop layer's (new_channel)."""
        bang = channel.find("!")
        return bang >= 0 and channel[: bang + 1] in self.inbox_names

    async def receive(self, channel):
        if "!" not in channel:
            # A named channel (a worker's): subscribed in Redis, as before.
            return await super().receive(channel)
        if not self._owns(channel):
            raise RuntimeError(
                f"{channel!r} belongs to another event loop or process: "
                "only the one that made it (new_channel) can receive on it"
            )
        if channel not in self.channels:
            self.channels[channel] = Inbox()
            await self._subscribe_inbox(channel[: channel.find("!") + 1])
        try:
            message = await self.channels[channel].get()
        except (TimeoutError, asyncio.CancelledError, GeneratorExit):
            # The consumer is leaving (as channels-redis assumes), with no
            # Redis subscription of its own to undo.
            self.channels.pop(channel, None)
            raise
        return self.channel_layer.deserialize(message)

    async def send(self, channel, message):
        if "!" not in channel:
            await super().send(channel, message)
            return
        data = self.channel_layer.serialize(message)
        if self._owns(channel):
            # No Redis round trip; a channel whose consumer left gets nothing.
            if channel in self.channels:
                self.queue_locally(channel, data)
            return
        inbox_name = channel[: channel.find("!") + 1]
        # Channel names hold no newline (Channels allows [A-Za-z0-9-_.!]).
        await self._get_shard(inbox_name).publish(inbox_name, channel.encode() + b"\n" + data)

    # --- A local channel read without a task (StreamConsumer.serve) ------

    def inbox(self, channel: str) -> Inbox:
        """The queue of `channel` (made by new_channel), to wait on."""
        inbox = self.channels.get(channel)
        if inbox is None:
            inbox = self.channels[channel] = Inbox()
        return inbox

    def receive_nowait(self, channel: str) -> dict | None:
        """The next message for `channel` (made by new_channel), or None."""
        inbox = self.channels.get(channel)
        if inbox is None or inbox.empty():
            return None
        return self.channel_layer.deserialize(inbox.get_nowait())

    def forget_channel(self, channel: str) -> None:
        """`channel`'s reader is gone (it has no Redis subscription of its own)."""
        self.channels.pop(channel, None)

    def queue_locally(self, channel: str, data: bytes) -> None:
        """Queue serialized `data` for `channel`'s consumer, in this loop, to read."""
        self.channels[channel].put_nowait(data)
        delivery.note_queued(channel)


class FanOutRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    """channels-redis' RedisPubSubChannelLayer (one Redis subscription per
    group per process), delivering each group message in one pass, and
    sending one message to many groups as one Redis message (group_send_many)."""

    async def group_send_many(self, groups: list[str], message: dict) -> None:
        """`group_send(group, message)` for each of `groups`, as one Redis
        message per MANY_GROUPS_PER_MESSAGE groups on the channel every
        process with a group member listens to; each process delivers to its
        members of those groups in one pass. A tweet to 10,000 online
        followers' feeds was 10,000 publishes (pipelined), and 10,000
        messages for each process to decode and frame one by one
        (docs/PERFORMANCE.md, item 19).

        With one Redis (REDIS_URL), a stream gets these and its group's own
        messages in the order they were published. With several hosts the
        two channels may live on different shards, and need not."""
        layer = self._get_layer()
        name = layer.many_groups_channel
        shard = layer._get_shard(name)
        chunks = [
            self.serialize({"groups": groups[start : start + MANY_GROUPS_PER_MESSAGE], "message": message})
            for start in range(0, len(groups), MANY_GROUPS_PER_MESSAGE)
        ]
        async with shard._lock:
            shard._ensure_redis()
            async with shard._redis.pipeline(transaction=False) as pipe:
                for data in chunks:
                    pipe.publish(name, data)
                await pipe.execute()

    # A consumer's channel is read in its loop's layer (new_channel).
    def inbox(self, channel: str) -> Inbox:
        return self._get_layer().inbox(channel)

    def receive_nowait(self, channel: str) -> dict | None:
        return self._get_layer().receive_nowait(channel)

    def forget_channel(self, channel: str) -> None:
        self._get_layer().forget_channel(channel)

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = self._layers[loop] = _OnePassLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
            return layer
