"""The channel layers: Channels' in-memory layer made to scale (the embedded
default), and channels-redis' pub/sub layer with one-pass local delivery.

Channels' InMemoryChannelLayer walks every channel and every group
membership on each group_send and on each receive (to expire old messages),
and deep-copies a message once per receiver. With N connections a broadcast
to them all costs O(N^2): unusable past about a thousand sockets. This
subclass expires at most once a second, and hands each receiver a shallow
copy (our messages hold only immutable values: an encoded string, ids).

Both hand a group's `stream.event` to delivery.py, which writes it at once
to every local consumer ready for it; only the rest are queued. Both let a
consumer read its own channel without a task of its own (inbox,
receive_nowait, forget_channel: see StreamConsumer.serve).
"""

import asyncio
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

from . import delivery
from .inbox import Inbox

CLEAN_INTERVAL_SECONDS = 1.0
# group_send_many through Redis: groups named per message (a message of
# 1,000 follower groups is about 25 KB).
MANY_GROUPS_PER_MESSAGE = 1000

logger = logging.getLogger(__name__)


class FanOutInMemoryChannelLayer(InMemoryChannelLayer):
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
            while not queue.empty() and queue._queue[0][0] < wall_now:
                queue.get_nowait()
                # As Channels does: a channel that let a message expire is
                # not being read; it leaves its groups.
                self._remove_from_groups(channel)
                if queue.empty():
                    self.channels.pop(channel, None)
        if now - self._groups_cleaned_at >= max(CLEAN_INTERVAL_SECONDS, self.group_expiry / 100):
            self._groups_cleaned_at = now
            joined_before = int(wall_now) - self.group_expiry
            for members in self.groups.values():
                for name, joined in list(members.items()):
                    if joined and joined < joined_before:
                        members.pop(name, None)

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
        self._put(channel, message, time.time() + self.expiry)

    def _put(self, channel: str, message: dict, expires: float) -> None:
        queue = self.inbox(channel)
        try:
            queue.put_nowait((expires, dict(message)))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None
        delivery.note_queued(channel)

    async def receive(self, channel):
        # Channels' own, with the channel's Inbox for its asyncio.Queue.
        self.require_valid_channel_name(channel)
        self._clean_expired()
        queue = self.inbox(channel)
        try:
            _, message = await queue.get()
        finally:
            if queue.empty():
                self.channels.pop(channel, None)
        return message

    # --- A local channel read without a task (StreamConsumer.serve) ------

    def receive_nowait(self, channel: str) -> dict | None:
        """The next message for `channel`, or None: receive() without waiting."""
        self._clean_expired()
        queue = self.channels.get(channel)
        if queue is None or queue.empty():
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
        expires = time.time() + self.expiry
        members = [channel for group in groups for channel in self.groups.get(group, ())]
        if not members:
            return
        for channel in delivery.deliver(members, message, now=time.time()):
            try:
                self._put(channel, message, expires)
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
            except (asyncio.CancelledError, asyncio.TimeoutError, GeneratorExit):
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
        # A consumer's own channel stays in its process, with no Redis
        # subscription: every message of this project reaches a stream
        # through a group. channels-redis subscribed each one, so every
        # handshake and every close waited its turn under the shard's lock
        # (behind publishes), and a reconnection had to subscribe all of
        # them again. A send() to one is delivered here, from this event
        # loop; from another loop or process it reaches nobody.
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        self.channels[channel] = Inbox()
        return channel

    def _is_local(self, channel: str) -> bool:
        return channel in self.channels and channel not in self._get_shard(channel)._subscribed_to

    async def receive(self, channel):
        if not self._is_local(channel):
            return await super().receive(channel)
        try:
            message = await self.channels[channel].get()
        except (asyncio.CancelledError, asyncio.TimeoutError, GeneratorExit):
            # The consumer is leaving (as channels-redis assumes), with no
            # Redis subscription to undo, so no wait for the shard's lock.
            self.channels.pop(channel, None)
            raise
        return self.channel_layer.deserialize(message)

    async def send(self, channel, message):
        if self._is_local(channel):
            self.queue_locally(channel, self.channel_layer.serialize(message))
            return
        await super().send(channel, message)

    # --- A local channel read without a task (StreamConsumer.serve) ------

    def inbox(self, channel: str) -> Inbox:
        """The queue of local `channel` (made by new_channel), to wait on."""
        inbox = self.channels.get(channel)
        if inbox is None:
            inbox = self.channels[channel] = Inbox()
        return inbox

    def receive_nowait(self, channel: str) -> dict | None:
        """The next message for local `channel`, or None."""
        inbox = self.channels.get(channel)
        if inbox is None or inbox.empty():
            return None
        return self.channel_layer.deserialize(inbox.get_nowait())

    def forget_channel(self, channel: str) -> None:
        """Local `channel`'s reader is gone (it has no Redis subscription)."""
        self.channels.pop(channel, None)

    def queue_locally(self, channel: str, data: bytes) -> None:
        """Queue serialized `data` for local `channel`'s consumer to read."""
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

    # A consumer's own channel is local to its loop's layer (new_channel).
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
            layer = self._layers[loop] = _OnePassLoopLayer(
                *self._args, **self._kwargs, channel_layer=self
            )
            _wrap_close(self, loop)
            return layer
