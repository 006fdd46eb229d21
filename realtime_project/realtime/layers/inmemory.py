"""Channels' in-memory layer made to scale: the embedded default.

Channels' InMemoryChannelLayer walks every channel and every group
membership on each group_send and on each receive (to expire old messages),
so a broadcast to N connections costs O(N^2) (docs/PERFORMANCE.md). This
subclass walks them at most once a second, and checks only the head of the
queue it reads on each receive.

It hands a group's `stream.event` to delivery.py, which writes it at once
to every local consumer ready for it; only the rest are queued. A consumer
reads its own channel without a task of its own (inbox, receive_nowait,
forget_channel: see StreamConsumer.serve).
"""

import asyncio
import copy
import time

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

from ..inbox import Inbox
from ..streams.names import addressed
from . import delivery

CLEAN_INTERVAL_SECONDS = 1.0


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
        # each send (a share of every broadcast's CPU that grows with the
        # idle connections: docs/PERFORMANCE.md, item 8): only a queue that
        # holds something can hold an expired message, and group memberships
        # are walked as often as their expiry needs (to 1%).
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
        """`group_send(group, message)` for each of `groups`, in one pass:
        each group's members get the message under that group's stream name
        (streams/names.py), framed once per group and written to all of
        them."""
        assert isinstance(message, dict), "Message is not a dict"
        for group in groups:
            self.require_valid_group_name(group)
        # Channels' group_send is a send() to each member, which refuses this.
        assert "__asgi_channel__" not in message
        self._clean_expired()
        now = time.time()
        for group in groups:
            members = self.groups.get(group)
            if members:
                self._send_to_members(list(members), addressed(message, group), now)

    def _send_to_members(self, members: list[str], message: dict, now: float) -> None:
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
