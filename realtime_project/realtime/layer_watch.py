"""Notice when the Redis channel layer lost messages, and make up for them.

With REDIS_URL each server process receives group messages through one
Redis pub/sub connection (channels-redis' RedisPubSubChannelLayer). Redis
drops that connection when the process falls behind by more than
`client-output-buffer-limit pubsub` (32 MB by default), on a restart or a
failover, or on a network blip. redis-py reconnects and subscribes again by
itself, silently, and what was published in between reached nobody in this
process: a connected client would never learn of the gap, and its next
resume would start after it.

channels-redis 4.3 takes an `on_reconnect` argument but never calls it, so
the hook is redis-py's own: `PubSub.on_connect` runs on every reconnection of
a pub/sub connection (not on the first connection). After it has restored
the subscriptions, every open stream catches up (consumers.catch_up).
"""

import asyncio
import logging

from redis.asyncio.client import PubSub

from .consumers import catch_up_open_streams
from .metrics import LAYER_RECONNECTS

logger = logging.getLogger(__name__)

_installed = False
# Catch-up tasks in flight (the loop keeps only weak references to tasks).
_tasks: set[asyncio.Task] = set()


def install_layer_watch() -> None:
    """Have open streams catch up whenever a pub/sub connection comes back."""
    global _installed
    if _installed:
        return
    _installed = True
    resubscribe = PubSub.on_connect

    async def on_connect(self: PubSub, connection) -> None:
        await resubscribe(self, connection)
        if not (self.channels or self.patterns):
            return  # nothing was subscribed: nothing could be missed
        LAYER_RECONNECTS.inc()
        # In a task of its own: this runs inside the layer's receive loop,
        # which must go on delivering while the streams catch up.
        task = asyncio.get_running_loop().create_task(_catch_up())
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)

    PubSub.on_connect = on_connect


async def _catch_up() -> None:
    count = await catch_up_open_streams()
    logger.warning(
        "channel layer subscription restored after a lost connection; %d open stream(s) catch up",
        count,
    )
