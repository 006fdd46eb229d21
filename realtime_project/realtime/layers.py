"""The embedded default channel layer: Channels' in-memory layer, made to scale.

Channels' InMemoryChannelLayer walks every channel and every group
membership on each group_send and on each receive (to expire old messages),
and deep-copies a message once per receiver. With N connections a broadcast
to them all costs O(N^2): unusable past about a thousand sockets. This
subclass expires at most once a second, and hands each receiver a shallow
copy (our messages hold only immutable values: an encoded string, ids).
"""

import asyncio
import time

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

CLEAN_INTERVAL_SECONDS = 1.0


class FanOutInMemoryChannelLayer(InMemoryChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._cleaned_at = 0.0

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._cleaned_at >= CLEAN_INTERVAL_SECONDS:
            self._cleaned_at = now
            super()._clean_expired()

    async def send(self, channel, message):
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        self._put(channel, message, time.time() + self.expiry)

    def _put(self, channel: str, message: dict, expires: float) -> None:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        try:
            queue.put_nowait((expires, dict(message)))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    async def group_send(self, group, message):
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        expires = time.time() + self.expiry
        for channel in list(self.groups.get(group, ())):
            try:
                self._put(channel, message, expires)
            except ChannelFull:
                # As Channels does: a full receiver misses this message (it
                # can recover it by resume), the others still get it.
                pass
