"""At most one call per key per interval: the first at once, the rest collapsed
into one call at the end of the interval (leading and trailing edges).

Used to coalesce engagement updates: the trailing call reads the state when
it runs, so the last message a client gets carries the final figures. With
REDIS_URL the interval is kept in Redis, so it holds across processes: a
like saved through one process and one saved through another within the
same second make one update at once and one at the end of the second.
"""

import logging
import threading
import time
from collections.abc import Callable

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from ..middleware.serverloop import server_loop

logger = logging.getLogger(__name__)

RUN_NOW = 0.0


class LocalGate:
    """The interval of each key, in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_allowed: dict[object, float] = {}
        self._pending: set[object] = set()

    def admit(self, key, interval: float) -> float | None:
        """RUN_NOW, or the seconds until this caller's deferred run, or None
        when a deferred run is already due (by this caller or another)."""
        now = time.monotonic()
        with self._lock:
            if key in self._pending:
                return None
            wait = self._next_allowed.get(key, 0.0) - now
            if wait <= 0:
                self._forget_expired(now)
                self._next_allowed[key] = now + interval
                return RUN_NOW
            self._pending.add(key)
            return wait

    def deferred_run_starts(self, key, interval: float) -> None:
        """The deferred run happens now: a new interval starts with it."""
        with self._lock:
            self._pending.discard(key)
            self._next_allowed[key] = time.monotonic() + interval

    def _forget_expired(self, now: float) -> None:
        if len(self._next_allowed) > 10_000:
            for key, allowed in list(self._next_allowed.items()):
                if allowed <= now and key not in self._pending:
                    del self._next_allowed[key]


# KEYS: the interval's key, the deferred run's key. ARGV: interval in ms.
# Run now if no interval is open; else the first caller to claim the
# deferred run gets the milliseconds left; the others get -1.
_ADMIT = """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left < 1 then left = 1 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', left + tonumber(ARGV[1])) then return left end
return -1
"""


class RedisGate:
    """The interval of each key, shared by every process using REDIS_URL."""

    def __init__(self, name: str) -> None:
        self.prefix = f"realtime:throttle:{name}:"
        self._client: redis.Redis | None = None

    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
            )
        return self._client

    def admit(self, key, interval: float) -> float | None:
        keys = (f"{self.prefix}{key}", f"{self.prefix}{key}:pending")
        left_ms = self.client().eval(_ADMIT, 2, *keys, max(1, int(interval * 1000)))
        if left_ms < 0:
            return None
        return left_ms / 1000

    def deferred_run_starts(self, key, interval: float) -> None:
        with self.client().pipeline() as pipe:
            pipe.delete(f"{self.prefix}{key}:pending")
            pipe.set(f"{self.prefix}{key}", "1", px=max(1, int(interval * 1000)))
            pipe.execute()


class Throttle:
    def __init__(self, name: str) -> None:
        self.local = LocalGate()
        self.shared = RedisGate(name)

    def gate(self):
        return self.shared if settings.REDIS_URL else self.local

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
        gate = self.gate()
        try:
            wait = gate.admit(key, interval)
        except redis.RedisError as error:
            # Better an update too many than a lost one.
            logger.warning("throttle: Redis unreachable (%s); sending at once", error)
            call()
            return
        if wait == RUN_NOW:
            call()
        elif wait is not None:
            self._defer(loop, wait, lambda: self._fire(gate, key, interval, call))

    def _fire(self, gate, key, interval: float, call: Callable[[], None]) -> None:
        try:
            gate.deferred_run_starts(key, interval)
        except redis.RedisError as error:
            logger.warning("throttle: Redis unreachable (%s)", error)
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
