"""Connection counts shared between server processes through a real Redis."""

import asyncio
import json
import time

import pytest
import redis

from realtime_project.realtime.cluster import connection
from realtime_project.realtime.cluster import presence as cluster
from realtime_project.realtime.cluster.registry import ConnectionRegistry, combine

pytestmark = pytest.mark.asyncio


@pytest.fixture
def shared_redis(redis_server, settings, monkeypatch):
    settings.REDIS_URL = redis_server
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    monkeypatch.setattr(connection, "_sync_client", None)
    monkeypatch.setattr(connection, "_async_clients", {})
    # This process's own counts, free of connections other tests left open.
    monkeypatch.setattr(cluster, "registry", ConnectionRegistry())
    return client


def publish_other_process(client, name, *opened, age=0.0):
    other = ConnectionRegistry()
    for stream, user_id in opened:
        other.opened(stream=stream, user_id=user_id, per_user=stream in ("feed", "notifications"))
    client.set(cluster.KEY_PREFIX + name, json.dumps(other.export()), ex=cluster.PROCESS_TTL_SECONDS)
    client.zadd(cluster.INDEX_KEY, {name: time.time() - age})


async def test_stats_add_up_every_live_process(shared_redis):
    publish_other_process(shared_redis, "other", ("feed", 41), ("trending", None))
    cluster.registry.opened(stream="feed", user_id=42, per_user=True)
    stats = combine(await cluster.cluster_exports())
    assert stats == {
        "active_users": 2,
        "total_user_connections": 2,
        "global_connections": 1,
        "total_connections": 3,
    }


async def test_a_process_silent_past_the_ttl_is_not_counted(shared_redis):
    publish_other_process(shared_redis, "dead", ("feed", 7), age=cluster.PROCESS_TTL_SECONDS + 1)
    exports = await cluster.cluster_exports()
    assert len(exports) == 1


async def test_published_counts_tell_who_is_online(shared_redis):
    cluster.registry.opened(stream="feed", user_id=5, per_user=True)
    await cluster.publish()
    publish_other_process(shared_redis, "other", ("feed", 6), ("notifications", 8))
    assert cluster.users_online(stream="feed") == {5, 6}


async def test_unreachable_redis_falls_back_to_this_process(settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(connection, "_sync_client", None)
    monkeypatch.setattr(connection, "_async_clients", {})
    assert await cluster.cluster_exports() == [cluster.registry.export()]
    assert cluster.users_online(stream="feed") is None


async def test_a_burst_of_handshakes_shares_a_few_publishes(shared_redis, monkeypatch):
    # Each publish writes every user online here: one per handshake would
    # make N reconnects cost N^2.
    publishes = 0
    real_publish = cluster.publish

    async def counted_publish():
        nonlocal publishes
        publishes += 1
        await real_publish()

    monkeypatch.setattr(cluster, "publish", counted_publish)
    publisher = asyncio.create_task(cluster.publish_forever())
    try:
        await asyncio.sleep(0.05)
        before = publishes

        async def handshake(user_id: int) -> bool:
            cluster.registry.opened(stream="feed", user_id=user_id, per_user=True)
            await cluster.publish_now()
            # Once publish_now returns, every process can see this user.
            published = json.loads(shared_redis.get(cluster.KEY_PREFIX + connection.PROCESS_ID))
            return str(user_id) in published["users"]["feed"]

        seen = await asyncio.gather(*(handshake(user_id) for user_id in range(200)))
    finally:
        publisher.cancel()
        await asyncio.gather(publisher, return_exceptions=True)
    assert all(seen)
    assert publishes - before <= 5
