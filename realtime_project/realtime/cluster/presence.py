"""The server processes sharing one channel layer, and what each has open.

With REDIS_URL, every server process publishes its connection counts
(stats.ConnectionRegistry.export) to Redis under its own key, refreshed every
few seconds and soon after every change, with a TTL: a process that dies
stops being counted when its key expires. /ws/stats and the online-only
feed fan-out read all live processes' keys. Without REDIS_URL there is one
process and its own registry is the whole truth.
"""

import asyncio
import contextlib
import json
import logging
import time

import redis
from django.conf import settings

from .connection import PROCESS_ID, async_client, sync_client
from .registry import online_in, registry

logger = logging.getLogger(__name__)

KEY_PREFIX = "realtime:process:"
INDEX_KEY = "realtime:processes"
# A dead process's counts vanish after this (PROTOCOL.md allows 60 s).
PROCESS_TTL_SECONDS = 30
REFRESH_SECONDS = 5
# How soon a change (a connection opened or closed) is published.
CHANGE_POLL_SECONDS = 0.1
# The longest a handshake waits for its connection to be published.
PUBLISH_WAIT_SECONDS = 3.0


def _decode(values) -> list[dict]:
    return [json.loads(value) for value in values if value]


async def cluster_exports() -> list[dict]:
    """The exports of every live server process, this one's up to the moment."""
    own = registry.export()
    if not settings.REDIS_URL:
        return [own]
    try:
        client = async_client()
        ids = await client.zrangebyscore(INDEX_KEY, time.time() - PROCESS_TTL_SECONDS, "+inf")
        others = [i.decode() for i in ids if i.decode() != PROCESS_ID]
        values = await client.mget([KEY_PREFIX + i for i in others]) if others else []
    except redis.RedisError:
        logger.warning("Redis unreachable: statistics cover this process only")
        return [own]
    return [own, *_decode(values)]


def users_online(*, stream: str) -> set[int] | None:
    """Ids of the users with a `stream` connection open on any server process.

    From synchronous code (services). If Redis cannot be read, return None:
    callers then send to everyone concerned rather than to no one.
    """
    own = registry.export()
    if not settings.REDIS_URL:
        return online_in([own], stream)
    try:
        client = sync_client()
        ids = client.zrangebyscore(INDEX_KEY, time.time() - PROCESS_TTL_SECONDS, "+inf")
        others = [i.decode() for i in ids if i.decode() != PROCESS_ID]
        values = client.mget([KEY_PREFIX + i for i in others]) if others else []
    except redis.RedisError:
        logger.warning("Redis unreachable: cannot tell who is online on %s", stream)
        return None
    # This process's own counts from memory: its published copy may lag.
    return online_in([own, *_decode(values)], stream)


class _Publisher:
    """The state of one loop's publish_forever, for publish_now to wait on."""

    def __init__(self):
        self.loop = asyncio.get_running_loop()
        self.wake = asyncio.Event()
        self.published_version = -1
        self.waiters: list[tuple[int, asyncio.Future]] = []

    def settle(self) -> None:
        """Release the waiters whose connection the last publish included."""
        pending = []
        for version, waiter in self.waiters:
            if version <= self.published_version:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                pending.append((version, waiter))
        self.waiters = pending


_publisher: _Publisher | None = None


async def publish_now() -> None:
    """Return once this process's counts, as they are now, are published, so
    other processes see a connection just opened.

    A follower whose feed socket is open must get the next tweet, whichever
    process posts it. Each publish writes every user this process has online:
    one per handshake would make a burst of N reconnects cost N^2 (a burst
    of feeds reconnecting took minutes, and handshakes timed out:
    docs/PERFORMANCE.md, item 4). So handshakes wait for the publisher's
    next round, which covers all of them at once.
    Never raise, and never hold a handshake longer than Redis' timeout.
    """
    if not settings.REDIS_URL:
        return
    publisher = _publisher
    if publisher is None or publisher.loop is not asyncio.get_running_loop():
        # No publisher on this loop (a test's loop, a shell): publish inline.
        try:
            await publish()
        except redis.RedisError as error:
            logger.warning("could not publish connection counts: %s", error)
        return
    waiter = publisher.loop.create_future()
    publisher.waiters.append((registry.version, waiter))
    publisher.wake.set()
    try:
        await asyncio.wait_for(asyncio.shield(waiter), PUBLISH_WAIT_SECONDS)
    except TimeoutError:
        logger.warning("connection counts not published within %s s", PUBLISH_WAIT_SECONDS)


async def publish() -> None:
    """Publish this process's counts (and that it is alive)."""
    client = async_client()
    now = time.time()
    async with client.pipeline(transaction=False) as pipe:
        pipe.set(KEY_PREFIX + PROCESS_ID, json.dumps(registry.export()), ex=PROCESS_TTL_SECONDS)
        pipe.zadd(INDEX_KEY, {PROCESS_ID: now})
        pipe.zremrangebyscore(INDEX_KEY, 0, now - PROCESS_TTL_SECONDS)
        await pipe.execute()


async def publish_forever() -> None:
    """Keep this process's published counts fresh until the server stops:
    soon after every change, at once when a handshake waits for it."""
    global _publisher
    publisher = _publisher = _Publisher()
    published_at = 0.0
    while True:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(publisher.wake.wait(), CHANGE_POLL_SECONDS)
        publisher.wake.clear()
        changed = registry.version != publisher.published_version
        if changed or time.monotonic() - published_at >= REFRESH_SECONDS:
            version = registry.version
            try:
                await publish()
                publisher.published_version, published_at = version, time.monotonic()
            except redis.RedisError as error:
                logger.warning("could not publish connection counts: %s", error)
                await asyncio.sleep(1)
            except Exception:
                logger.exception("publishing connection counts failed")
                await asyncio.sleep(1)
        publisher.settle()
