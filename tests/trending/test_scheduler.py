"""The in-server periodic recompute: started with the server, stopped cleanly."""

import asyncio
import sys

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from trending.models import TrendingSnapshot
from trending.scheduler import PeriodicRecompute, PeriodicRecomputeApp, with_periodic_recompute


async def wait_for(predicate, timeout=5.0):
    """Poll `predicate` (sync, run in a thread) until true; fail after `timeout` s."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await database_sync_to_async(predicate)():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.fixture
def quick(settings):
    settings.TRENDING_RECOMPUTE_SECONDS = 0.05


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_it_recomputes_at_start_broadcasts_only_changes_and_stops(quick, post, sent):
    # The server runs on the real clock: the tweets are posted now.
    await database_sync_to_async(post)("#AI", at=timezone.now())
    await database_sync_to_async(post)("#AI", at=timezone.now())
    scheduler = PeriodicRecompute()
    scheduler.start()
    await wait_for(lambda: TrendingSnapshot.objects.count() >= 4)
    await scheduler.stop()
    assert not scheduler.running
    stored = await database_sync_to_async(TrendingSnapshot.objects.count)()
    await asyncio.sleep(0.15)
    assert await database_sync_to_async(TrendingSnapshot.objects.count)() == stored
    assert [[t["topic"] for t in data["topics"]] for data in sent.trending()] == [["AI"]]


@pytest.mark.asyncio
async def test_it_is_off_when_the_setting_says_so(settings):
    settings.TRENDING_RECOMPUTE_IN_SERVER = False
    scheduler = PeriodicRecompute()
    scheduler.start()
    assert not scheduler.running
    await scheduler.stop()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_failing_recompute_does_not_end_the_loop(quick, monkeypatch):
    calls = []

    def failing(**kwargs):
        calls.append(kwargs)
        raise RuntimeError("database down")

    monkeypatch.setattr("trending.scheduler.services.trending_refresh", failing)
    scheduler = PeriodicRecompute()
    scheduler.start()
    async with asyncio.timeout(5):
        while len(calls) < 2:
            await asyncio.sleep(0.02)
    assert scheduler.running
    await scheduler.stop()


class Recorder:
    def __init__(self):
        self.scopes = []

    async def __call__(self, scope, receive, send):
        self.scopes.append(scope["type"])


class FakeScheduler:
    running = False

    def start(self):
        self.running = True

    async def stop(self):
        self.running = False


@pytest.mark.asyncio
async def test_lifespan_startup_and_shutdown_start_and_stop_it():
    scheduler, inbox, outbox = FakeScheduler(), asyncio.Queue(), []
    app = PeriodicRecomputeApp(Recorder(), scheduler)

    async def send(message):
        outbox.append(message["type"])

    task = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))
    await inbox.put({"type": "lifespan.startup"})
    while not outbox:
        await asyncio.sleep(0)
    assert scheduler.running
    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(task, 1)
    assert outbox == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert not scheduler.running


@pytest.mark.asyncio
async def test_requests_and_sockets_pass_through_without_starting_it():
    inner, scheduler = Recorder(), FakeScheduler()
    app = PeriodicRecomputeApp(inner, scheduler)
    await app({"type": "http"}, None, None)
    await app({"type": "websocket"}, None, None)
    assert inner.scopes == ["http", "websocket"]
    assert not scheduler.running


class FakeReactor:
    def __init__(self):
        self.on_start, self.soon, self.before_shutdown = [], [], []

    def callLater(self, delay, callable):  # noqa: N802
        self.soon.append(callable)

    def callWhenRunning(self, callable):  # noqa: N802 (Twisted's name)
        self.on_start.append(callable)

    def addSystemEventTrigger(self, phase, event, callable):  # noqa: N802
        assert (phase, event) == ("before", "shutdown")
        self.before_shutdown.append(callable)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_under_daphne_it_runs_from_reactor_start_to_shutdown(monkeypatch, quick):
    reactor = FakeReactor()
    monkeypatch.setitem(sys.modules, "twisted.internet.reactor", reactor)
    monkeypatch.setattr("trending.scheduler.services.trending_refresh", lambda **kwargs: None)
    app = with_periodic_recompute(Recorder())
    assert not app.scheduler.running  # wrapping (importing asgi.py) starts nothing
    [reactor_started] = reactor.on_start
    reactor_started()
    assert not app.scheduler.running  # the asyncio loop is not running yet
    [loop_running] = reactor.soon
    loop_running()
    assert app.scheduler.running
    [shutdown] = reactor.before_shutdown
    await asyncio.wrap_future(asyncio.ensure_future(_deferred_result(shutdown())))
    assert not app.scheduler.running


async def _deferred_result(deferred):
    return await deferred.asFuture(asyncio.get_running_loop())


def test_importing_the_asgi_application_starts_nothing():
    from realtime_project import asgi

    scheduler = getattr(asgi.application, "scheduler", None)
    assert scheduler is None or not scheduler.running


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_only_the_lease_holder_recomputes(quick, settings, redis_server, monkeypatch):
    # Two server processes share Redis: the second one's lease is taken.
    from realtime_project.realtime.cluster import connection, lease

    settings.REDIS_URL = redis_server
    monkeypatch.setattr(connection, "_async_clients", {})
    holder = lease.Lease("trending-recompute", ttl_seconds=30, holder="another-process")
    assert await holder.hold()
    scheduler = PeriodicRecompute()
    scheduler.start()
    await asyncio.sleep(0.3)
    await scheduler.stop()
    assert await database_sync_to_async(TrendingSnapshot.objects.count)() == 0
