"""The channel layers: Channels' in-memory layer made to scale (the embedded
default), and channels-redis' pub/sub layer with one-pass local delivery.

Channels' InMemoryChannelLayer walks every channel and every group
membership on each group_send and on each receive (to expire old messages).
With N connections a broadcast to them all costs O(N^2): unusable past about
a thousand sockets. This subclass walks them at most once a second, and
checks only the head of the queue it reads on each receive.

Both hand a group's `stream.event` to delivery.py, which writes it at once
to every local consumer ready for it; only the rest are queued. Both let a
consumer read its own channel without a task of its own (inbox,
receive_nowait, forget_channel: see StreamConsumer.serve).
"""

import asyncio
import copy
import logging
import time
import uuid

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
    _wrap_close,
)
from channels_redis.utils import create_pool
from redis import asyncio as aioredis

from . import delivery
from .inbox import Inbox
from .layer_watch import WatchedPubSub

CLEAN_INTERVAL_SECONDS = 1.0
# group_send_many through Redis: groups named per message (a message of
# 1,000 follower groups is about 25 KB).
MANY_GROUPS_PER_MESSAGE = 1000

logger = logging.getLogger(__name__)


class FanOutInMemoryChannelLayer(InMemoryChannelLayer):
    """Channels' InMemoryChannelLayer, with its contract (tests/realtime/
    test_inmemory_layer_contract.py runs the same suite on both) and
    without its O(N) walks per send and receive.

    Expiry: no receiver is handed a message past its expiry (receive() and
    receive_nowait() check the head of the queue they read), and a channel
    that lets one expire leaves its groups, as Channels does. The walk over
    every queue and every group membership runs at most once a second
    (group memberships: as often as their expiry needs, to 1%).

    Copies: every queued message is a deep copy, as Channels makes, so no
    receiver shares a nested value with the sender or another receiver. A
    `stream.event` that delivery.deliver writes at once to a ready
    consumer's socket is neither copied nor queued: what it writes is the
    message's already-encoded text, so no receiver holds anything of it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._cleaned_at = 0.0
        self._groups_cleaned_at = time.monotonic()

    def _clean_expired(self):
        # Channels' own expiry, minus two walks over every idle connection on
        # each send (a few percent of a broadcast's CPU at 5,000 sockets):
        # only a queue that holds something can hold an expired message, and
        # group memberships are walked as often as their expiry needs (to 1%).
        now = time.monotonic()
        if now - self._cleaned_at < CLEAN_INTERVAL_SECONDS:
            return
        self._cleaned_at = now
        wall_now = time.time()
        for channel, queue in [item for item in self.channels.items() if item[1].qsize()]:
            self._drop_expired(channel, queue, wall_now)
            if queue.empty():
                self.channels.pop(channel, None)
        if now - self._groups_cleaned_at >= max(CLEAN_INTERVAL_SECONDS, self.group_expiry / 100):
            self._groups_cleaned_at = now
            joined_before = int(wall_now) - self.group_expiry
            for members in self.groups.values():
                for name, joined in list(members.items()):
                    if joined and joined < joined_before:
                        members.pop(name, None)

    def _drop_expired(self, channel: str, queue, now: float) -> None:
        """Drop the expired messages at the head of `channel`'s queue (all of
        them: every message expires `expiry` after its send, in order)."""
        expired = False
        while not queue.empty() and queue._queue[0][0] < now:
            queue.get_nowait()
            expired = True
        if expired:
            # As Channels does: a channel that let a message expire is not
            # being read; it leaves its groups.
            self._remove_from_groups(channel)

    def inbox(self, channel: str) -> Inbox:
        """The queue of `channel`, made if it has none (an Inbox: Channels
        builds an asyncio.Queue on every receive). StreamConsumer.serve
        waits on it (inbox.wait_for_any) when receive_nowait has nothing."""
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = Inbox(maxsize=self.get_capacity(channel))
        return queue

    async def send(self, channel, message):
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        self._put(channel, message, time.time() + self.expiry)

    def _put(self, channel: str, message: dict, expires: float) -> None:
        queue = self.inbox(channel)
        try:
            queue.put_nowait((expires, copy.deepcopy(message)))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None
        delivery.note_queued(channel)

    async def receive(self, channel):
        # Channels' own, with the channel's Inbox for its asyncio.Queue, and
        # never a message past its expiry (one may expire while queued
        # between two of the periodic walks).
        self.require_valid_channel_name(channel)
        self._clean_expired()
        queue = self.inbox(channel)
        try:
            while True:
                expires, message = await queue.get()
                if expires >= time.time():
                    return message
                self._remove_from_groups(channel)
        finally:
            if queue.empty():
                self.channels.pop(channel, None)

    # --- A local channel read without a task (StreamConsumer.serve) ------

    def receive_nowait(self, channel: str) -> dict | None:
        """The next message for `channel`, or None: receive() without waiting."""
        self._clean_expired()
        queue = self.channels.get(channel)
        if queue is None:
            return None
        self._drop_expired(channel, queue, time.time())
        if queue.empty():
            return None
        _, message = queue.get_nowait()
        return message

    def forget_channel(self, channel: str) -> None:
        """`channel`'s reader is gone: drop its queue unless something waits
        in it (as receive() does when cancelled; the rest expires)."""
        queue = self.channels.get(channel)
        if queue is not None and queue.empty():
            self.channels.pop(channel, None)

    async def group_send(self, group, message):
        await self.group_send_many([group], message)

    async def group_send_many(self, groups: list[str], message: dict) -> None:
        """`group_send(group, message)` for each of `groups`, in one pass: a
        tweet to 10,000 online followers' feeds is framed once and written
        10,000 times, not framed again for each follower's group."""
        assert isinstance(message, dict), "Message is not a dict"
        for group in groups:
            self.require_valid_group_name(group)
        self._clean_expired()
        members = [channel for group in groups for channel in self.groups.get(group, ())]
        if not members:
            return
        # Channels' group_send is a send() to each member, which refuses this.
        assert "__asgi_channel__" not in message
        now = time.time()
        # Written now, the message cannot have expired; with no expiry at all
        # (expiry=0) it is queued, and expires there, as Channels' would.
        left = delivery.deliver(members, message, now=now) if self.expiry > 0 else members
        for channel in left:
            try:
                self._put(channel, message, now + self.expiry)
            except ChannelFull:
                # As Channels does: a full receiver misses this message (it
                # can recover it by resume), the others still get it.
                pass


class _OnePassShard(RedisSingleShardConnection):
    def __init__(self, host, channel_layer):
        # RESP2 unless the host says otherwise. redis-py 8 speaks RESP3 by
        # default, where each pub/sub message goes through a push handler
        # that builds "Push response: " + str(message) for a debug log
        # whether or not it is logged: the payload's repr, per message.
        # redis-py alone took 16-24 us a message as RESP2 against 26-28 as
        # RESP3 (python -m bench.redis_protocol); nothing here uses RESP3.
        super().__init__({"protocol": 2, **host}, channel_layer)
        self._subscribed = asyncio.Event()

    def _ensure_redis(self):
        # channels-redis' own, with a pub/sub connection that has the open
        # streams catch up when it comes back after a drop (layer_watch.py).
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
        # one waited up to 100 ms (the benchmark's action-to-screen p99 was
        # 99 ms through Redis, against 11-17 ms embedded). Only subscribe()
        # makes the connection subscribed again (redis-py's reconnection
        # restores subscriptions it still has), so the wait needs no timeout;
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
        its groups: decoded, framed and written once for all of them."""
        many = self.channel_layer.deserialize(data)
        message, groups = many["message"], self.groups
        local = [
            channel
            for group in many["groups"]
            for channel in groups.get(self._get_group_channel_name(group), ())
            if channel in self.channels
        ]
        self.deliver_to_members(local, self.channel_layer.serialize(message), message)

    def deliver_to_members(self, members: list[str], data: bytes, message: dict | None = None) -> None:
        """Write a group message (`data`, or `message` already decoded) at once
        to the local `members` ready for it, decoded once for all of them;
        queue it for the others, serialized, as channels-redis queues."""
        if members and delivery.any_ready(members):
            if message is None:
                message = self.channel_layer.deserialize(data)
            members = delivery.deliver(members, message, now=time.time())
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
        messages for each process to decode and frame one by one.

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
