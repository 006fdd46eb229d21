"""At most one call per key per interval: the first at once, the rest collapsed
into one call at the end of the interval (leading and trailing edges).

Used to coalesce engagement updates: the trailing call reads the state when
it runs, so the last message a client gets carries the final figures.
"""

import threading
import time
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from .serverloop import server_loop


class Throttle:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_allowed: dict[object, float] = {}
        self._pending: set[object] = set()

    def submit(self, key, interval: float, call: Callable[[], None]) -> None:
        """Run `call` now if `key` ran more than `interval` seconds ago, else once
        when the interval ends (however often it is submitted meanwhile).

        `call` is synchronous; a deferred one runs on a worker thread of the
        server loop. Outside a server (a command, a shell) nothing is
        deferred: such a process may exit before the interval ends.
        """
        loop = server_loop()
        if interval <= 0 or loop is None:
            call()
            return
        now = time.monotonic()
        with self._lock:
            if key in self._pending:
                return
            wait = self._next_allowed.get(key, 0.0) - now
            if wait <= 0:
                self._forget_expired(now)
                self._next_allowed[key] = now + interval
            else:
                self._pending.add(key)
        if wait <= 0:
            call()
        else:
            self._defer(loop, wait, lambda: self._fire(key, interval, call))

    def _fire(self, key, interval: float, call: Callable[[], None]) -> None:
        with self._lock:
            self._pending.discard(key)
            self._next_allowed[key] = time.monotonic() + interval
        try:
            call()
        finally:
            close_old_connections()

    def _defer(self, loop, delay: float, job: Callable[[], None]) -> None:
        # From the server's loop, so that channel-layer sends happen on the
        # loop that owns the layer's connections.
        def start():
            loop.create_task(sync_to_async(job, thread_sensitive=False)())

        loop.call_soon_threadsafe(loop.call_later, delay, start)

    def _forget_expired(self, now: float) -> None:
        if len(self._next_allowed) > 10_000:
            for key, allowed in list(self._next_allowed.items()):
                if allowed <= now and key not in self._pending:
                    del self._next_allowed[key]
