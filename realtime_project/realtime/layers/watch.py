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
a pub/sub connection (not on the first connection). The layer's shards
subscribe through `WatchedPubSub` (redis_pubsub._OnePassShard); after it has
restored the subscriptions, every open stream catches up (its `catch_up`).

This module knows the open streams only through delivery.tracked() (their
`catch_up`): the layer depends on no consumer.
"""

import asyncio
import logging

from redis.asyncio.client import PubSub

from ..ops.metrics import LAYER_RECONNECTS
from . import delivery

logger = logging.getLogger(__name__)

# Catch-up tasks in flight (the loop keeps only weak references to tasks).
_tasks: set[asyncio.Task] = set()


class WatchedPubSub(PubSub):
    """redis-py's PubSub, which has the open streams catch up whenever it
    comes back subscribed after losing its connection."""

    async def on_connect(self, connection) -> None:
        await super().on_connect(connection)
        if not self.subscribed:
            return  # nothing was subscribed: nothing could be missed
        LAYER_RECONNECTS.inc()
        # In a task of its own: this runs inside the layer's receive loop,
        # which must go on delivering while the streams catch up.
        task = asyncio.get_running_loop().create_task(_catch_up())
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)


async def catch_up_open_streams() -> int:
    """Have every open stream of this process catch up (its `catch_up()`);
    return how many were open to do so.

    Called when the channel layer reconnects after losing its connection:
    what was published meanwhile reached no one here.
    """
    caught_up = 0
    for receiver in delivery.tracked():
        try:
            caught_up += await receiver.catch_up()
        except Exception:
            logger.exception("catching up %s failed", receiver.channel)
    return caught_up


async def _catch_up() -> None:
    count = await catch_up_open_streams()
    logger.warning(
        "channel layer subscription restored after a lost connection; %d open stream(s) catch up",
        count,
    )
