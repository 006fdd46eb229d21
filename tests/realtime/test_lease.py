"""The Redis lease that lets one process at a time run a periodic job."""

import asyncio

import pytest

from realtime_project.realtime.cluster import connection
from realtime_project.realtime.cluster.lease import Lease

pytestmark = pytest.mark.asyncio


@pytest.fixture
def shared_redis(redis_server, settings, monkeypatch):
    settings.REDIS_URL = redis_server
    monkeypatch.setattr(connection, "_async_clients", {})


async def test_one_holder_at_a_time_and_it_keeps_the_lease(shared_redis):
    first = Lease("job-a", ttl_seconds=5, holder="process-1")
    second = Lease("job-a", ttl_seconds=5, holder="process-2")
    assert await first.hold()
    assert not await second.hold()
    assert await first.hold()
    assert not await second.hold()


async def test_another_process_takes_over_when_the_holder_stops_renewing(shared_redis):
    dead = Lease("job-b", ttl_seconds=0.2, holder="dead-process")
    survivor = Lease("job-b", ttl_seconds=0.2, holder="survivor")
    assert await dead.hold()
    assert not await survivor.hold()
    await asyncio.sleep(0.3)
    assert await survivor.hold()
    assert not await dead.hold()


async def test_without_redis_the_only_process_holds_it(settings):
    settings.REDIS_URL = ""
    assert await Lease("job-c", ttl_seconds=1).hold()


async def test_unreachable_redis_means_no_holder(settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(connection, "_async_clients", {})
    assert not await Lease("job-d", ttl_seconds=1).hold()
