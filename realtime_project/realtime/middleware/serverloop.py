"""The event loop of the server process, and the background work it runs.

Daphne runs no ASGI lifespan, so the loop is remembered, and the registered
background tasks started, by `ServerLoopMiddleware` on the first request or
handshake. Management commands and shells have no server loop:
`server_loop()` returns None there and no background task runs.
"""

import asyncio
import logging
from collections.abc import Callable, Coroutine

logger = logging.getLogger(__name__)

_loop: asyncio.AbstractEventLoop | None = None
_background: list[Callable[[], Coroutine]] = []
_tasks: list[asyncio.Task] = []


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The running server loop of this process, if this process is a server."""
    if _loop is not None and _loop.is_running() and not _loop.is_closed():
        return _loop
    return None


def run_with_server(task: Callable[[], Coroutine]) -> None:
    """Run coroutine function `task` in the background of every server loop of
    this process, from its first request on. Call it from AppConfig.ready."""
    if task not in _background:
        _background.append(task)


class ServerLoopMiddleware:
    """ASGI middleware that remembers the loop serving requests and starts
    the background tasks on it."""

    def __init__(self, application):
        self.application = application

    # A plain function returning the application's coroutine (marked for
    # asgiref as single-callable): an `async def` here would keep one more
    # coroutine frame alive for each open WebSocket (realtime/server/server.py).
    # Servers call an application from their running loop.
    _asgi_single_callable = True

    def __call__(self, scope, receive, send):
        global _loop
        loop = asyncio.get_running_loop()
        # The latest loop wins: a process serves from one loop, but tests
        # start a new one per test.
        if loop is not _loop:
            _loop = loop
            _start_background(loop)
        return self.application(scope, receive, send)


def _start_background(loop) -> None:
    for task in _tasks:
        task.cancel()
    _tasks.clear()
    for job in _background:
        _tasks.append(loop.create_task(_supervised(job)))


async def _supervised(job) -> None:
    # A background job that fails is logged and restarted, never left dead.
    while True:
        try:
            await job()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("background task %s failed; restarting", job.__name__)
            await asyncio.sleep(1)
