"""The periodic trending recompute that runs inside a server process.

With the in-memory channel layer only the server process can reach its
WebSocket clients, so the server recomputes by itself: every
TRENDING_RECOMPUTE_SECONDS (60) it runs `services.trending_refresh` in a
worker thread and broadcasts when the topics changed, at most once per
interval. With REDIS_URL, one process at a time does it: the holder of a
lease in Redis (realtime/cluster/lease.py), which another takes over if it dies.
TRENDING_RECOMPUTE_IN_SERVER=0 turns it off (for example when
`manage.py recompute_trending --loop` runs beside servers that share Redis).

It starts and stops with the server, never when the ASGI application is
merely imported (tests, management commands):
- Daphne (`make run`, `manage.py runserver`) does not speak the ASGI lifespan
  protocol, but runs a Twisted reactor on the asyncio loop: the reactor's
  start and before-shutdown hooks bracket the server's life.
- Servers that speak lifespan (uvicorn, hypercorn) send startup/shutdown.
"""

import asyncio
import logging
import sys
from datetime import timedelta

from realtime_project.realtime.cluster.lease import Lease
from realtime_project.realtime.stream_database import database_sync_to_async

from . import conf, services

logger = logging.getLogger(__name__)


class PeriodicRecompute:
    """Recompute the trending topics every interval on the running event loop."""

    def __init__(self) -> None:
        self._task: asyncio.Task | None = None
        self._stopping: asyncio.Event | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start recomputing, from within the event loop, unless disabled or running."""
        if self.running:
            return
        if not conf.recompute_in_server():
            logger.info("trending: in-server recompute off (TRENDING_RECOMPUTE_IN_SERVER)")
            return
        interval = conf.recompute_seconds()
        self._stopping = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(interval), name="trending-recompute")
        logger.info("trending: recomputing every %gs in this server process", interval)

    async def stop(self, *, timeout: float = 10) -> None:
        """Stop after the refresh in progress, if any; cancel it after `timeout` seconds."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(self._task, timeout)
        except TimeoutError:
            logger.warning("trending: recompute did not stop within %gs; cancelled", timeout)
        else:
            logger.info("trending: periodic recompute stopped")
        self._task = None

    async def _run(self, interval: float) -> None:
        refresh = database_sync_to_async(services.trending_refresh)
        # With several processes sharing Redis, one of them recomputes; if it
        # dies, another takes over within two intervals.
        lease = Lease("trending-recompute", ttl_seconds=2 * interval + 5)
        while not self._stopping.is_set():
            try:
                if not await lease.hold():
                    await self._sleep(interval)
                    continue
                result = await refresh(min_interval=timedelta(seconds=interval))
                if result.broadcast:
                    logger.info("trending: %d topics broadcast", len(result.snapshot.topics))
            except Exception:
                # A failed recompute (database down) must not end the loop.
                logger.exception("trending: recompute failed; retrying in %gs", interval)
            # Sleeping a full interval after each refresh keeps broadcasts at
            # least `interval` apart.
            await self._sleep(interval)

    async def _sleep(self, seconds: float) -> None:
        """Wait `seconds`; stop() wakes it at once."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass


class PeriodicRecomputeApp:
    """Serve `app`, and run `scheduler` for as long as the server runs."""

    def __init__(self, app, scheduler: PeriodicRecompute) -> None:
        self.app = app
        self.scheduler = scheduler

    # A plain function returning the application's coroutine (marked for
    # asgiref as single-callable): an `async def` here would keep one more
    # coroutine frame alive for each open WebSocket (realtime/server/server.py).
    _asgi_single_callable = True

    def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return self._lifespan(receive, send)
        return self.app(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.scheduler.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.scheduler.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def with_periodic_recompute(app) -> PeriodicRecomputeApp:
    """Wrap the project's ASGI `app` so that the server recomputes trending topics."""
    scheduler = PeriodicRecompute()
    _bracket_daphne(scheduler)
    return PeriodicRecomputeApp(app, scheduler)


def _bracket_daphne(scheduler: PeriodicRecompute) -> None:
    # daphne.server installs the asyncio Twisted reactor when imported (the
    # daphne app does it in every process), but only a Daphne server runs it:
    # these hooks never fire in tests or management commands.
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is None:
        return
    from twisted.internet.defer import Deferred

    def start():
        try:
            scheduler.start()
        except RuntimeError:
            logger.exception("trending: no asyncio loop under this reactor; not recomputing")

    # Startup triggers fire just before the reactor runs the asyncio loop:
    # callLater(0) starts the task from within the running loop.
    reactor.callWhenRunning(lambda: reactor.callLater(0, start))
    reactor.addSystemEventTrigger(
        "before", "shutdown", lambda: Deferred.fromFuture(asyncio.ensure_future(scheduler.stop()))
    )
