"""The event loop of the server process, for work that must outlive a request.

Daphne runs no ASGI lifespan, so the loop is remembered by `ServerLoopMiddleware`
on the first request or handshake. Management commands and shells have no
server loop: `server_loop()` returns None there.
"""

import asyncio

_loop: asyncio.AbstractEventLoop | None = None


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The running server loop of this process, if this process is a server."""
    if _loop is not None and _loop.is_running() and not _loop.is_closed():
        return _loop
    return None


class ServerLoopMiddleware:
    """ASGI middleware that remembers the loop serving requests."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        global _loop
        # The latest loop wins: a process serves from one loop, but tests
        # start a new one per test.
        _loop = asyncio.get_running_loop()
        return await self.application(scope, receive, send)
