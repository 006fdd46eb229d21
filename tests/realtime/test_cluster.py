"""Connection counts shared between server processes through a real Redis."""

import json
import time

import pytest
import redis

from realtime_project.realtime import cluster
from realtime_project.realtime.stats import ConnectionRegistry, combine

pytestmark = pytest.mark.asyncio


@pytest.fixture
def shared_redis(redis_server, settings, monkeypatch):
    settings.REDIS_URL = redis_server
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    monkeypatch.setattr(cluster, "_sync_client", None)
    monkeypatch.setattr(cluster, "_async_clients", {})
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
    monkeypatch.setattr(cluster, "_sync_client", None)
    monkeypatch.setattr(cluster, "_async_clients", {})
    assert await cluster.cluster_exports() == [cluster.registry.export()]
    assert cluster.users_online(stream="feed") is None
