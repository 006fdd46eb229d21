import asyncio
import time

import pytest
import pytest_asyncio

from realtime_project.realtime.events.coalescing import Throttle
from realtime_project.realtime.middleware import serverloop


class Calls:
    def __init__(self):
        self.times: list[float] = []

    def __call__(self):
        self.times.append(time.monotonic())


@pytest_asyncio.fixture
async def in_a_server(monkeypatch):
    """Run the test as if in a server process, whose loop is the test's."""
    monkeypatch.setattr(serverloop, "_loop", asyncio.get_running_loop())


async def wait_for_calls(calls: Calls, count: int, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while len(calls.times) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


@pytest.mark.asyncio
async def test_first_call_runs_at_once_and_a_burst_collapses_into_one_trailing_call(in_a_server):
    throttle, calls = Throttle("test"), Calls()
    start = time.monotonic()
    for _ in range(5):
        throttle.submit("tweet-1", 0.2, calls)
    assert len(calls.times) == 1 and calls.times[0] - start < 0.05
    await wait_for_calls(calls, 2)
    await asyncio.sleep(0.3)
    assert len(calls.times) == 2
    assert calls.times[1] - calls.times[0] >= 0.19


@pytest.mark.asyncio
async def test_keys_are_throttled_independently(in_a_server):
    throttle, calls = Throttle("test"), Calls()
    throttle.submit("a", 10, calls)
    throttle.submit("b", 10, calls)
    assert len(calls.times) == 2


@pytest.mark.asyncio
async def test_call_after_the_interval_runs_at_once(in_a_server):
    throttle, calls = Throttle("test"), Calls()
    throttle.submit("k", 0.05, calls)
    await asyncio.sleep(0.06)
    throttle.submit("k", 0.05, calls)
    assert len(calls.times) == 2


def test_zero_interval_disables_throttling():
    throttle, calls = Throttle("test"), Calls()
    for _ in range(3):
        throttle.submit("k", 0, calls)
    assert len(calls.times) == 3


def test_outside_a_server_nothing_waits(monkeypatch):
    # A command may exit before a deferred call would run: send each at once.
    monkeypatch.setattr(serverloop, "_loop", None)
    throttle, calls = Throttle("test"), Calls()
    for _ in range(3):
        throttle.submit("k", 10, calls)
    assert len(calls.times) == 3


@pytest.fixture
def shared_redis(redis_server, settings):
    settings.REDIS_URL = redis_server
    import redis

    redis.Redis.from_url(redis_server).flushdb()


@pytest.mark.asyncio
async def test_the_interval_holds_across_processes_sharing_redis(in_a_server, shared_redis):
    # Two processes (two Throttles) change one tweet within one interval:
    # one call at once, one at the end, not one each.
    here, there = Throttle("engagement"), Throttle("engagement")
    calls = Calls()
    here.submit("tweet-9", 0.2, calls)
    there.submit("tweet-9", 0.2, calls)
    here.submit("tweet-9", 0.2, calls)
    there.submit("tweet-9", 0.2, calls)
    assert len(calls.times) == 1
    await wait_for_calls(calls, 2)
    await asyncio.sleep(0.3)
    assert len(calls.times) == 2
    assert calls.times[1] - calls.times[0] >= 0.15


@pytest.mark.asyncio
async def test_unreachable_redis_sends_at_once(in_a_server, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    throttle, calls = Throttle("engagement"), Calls()
    throttle.submit("k", 10, calls)
    throttle.submit("k", 10, calls)
    assert len(calls.times) == 2
