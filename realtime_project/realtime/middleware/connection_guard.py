"""Limits on WebSockets per client address, and the descriptors they hold.

Every open WebSocket holds a file descriptor. Without a cap, one address
can open sockets until the process runs out of descriptors, and then every
request fails: REST, handshakes and health checks alike. So, per process:
- an address holds at most REALTIME_MAX_SOCKETS_PER_ADDRESS open sockets,
  and opens at most REALTIME_HANDSHAKES_PER_SECOND (bursts up to
  REALTIME_HANDSHAKES_BURST): closed with 4429, as a client over any other
  limit is;
- past (descriptor limit - REALTIME_DESCRIPTOR_RESERVE) open WebSockets, new
  ones are closed with 1013 (Try Again Later, reconnectable), so the reserve
  stays free for REST, health checks, the database and Redis.
The checks run before authentication, so a refused handshake costs no
database read. Refusals are counted in /metrics and logged once per address
per minute: a flood must not also flood the log.
"""

import logging
import resource
import time

from django.conf import settings

from ..ops.metrics import HANDSHAKES_REFUSED, WEBSOCKETS_MAX
from ..rate_limit import RateLimit
from .client_address import scope_client

logger = logging.getLogger(__name__)

CLOSE_TOO_MANY = 4429
CLOSE_TRY_AGAIN_LATER = 1013
LOG_EVERY_SECONDS = 60.0


def raise_descriptor_limit() -> int:
    """Raise this process's soft descriptor limit to its hard limit; return
    the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as error:
            logger.warning("could not raise the descriptor limit from %d to %d: %s", soft, hard, error)
    return soft


class AddressBook:
    """Open sockets and handshake budgets by client address, in this process."""

    def __init__(self, *, per_address: int, rate: float, burst: int, max_sockets: int):
        self.per_address = per_address
        self.rate = rate
        self.burst = burst
        self.max_sockets = max_sockets
        self.open_total = 0
        self.open_by_address: dict[str, int] = {}
        # address -> (its handshake budget, when it last used it)
        self.budgets: dict[str, tuple[RateLimit, float]] = {}
        self.logged_at: dict[str, float] = {}

    def admit(self, address: str) -> tuple[int, str] | None:
        """Count a handshake from `address`; return (close code, reason) if it
        is refused, None if it may go on (then call `release` when it ends)."""
        now = time.monotonic()
        entry = self.budgets.get(address)
        if entry is None:
            if len(self.budgets) > 10_000:
                self._forget_idle_budgets(now)
            budget = RateLimit(self.rate, self.burst)
        else:
            budget = entry[0]
        self.budgets[address] = (budget, now)
        if not budget.allow():
            return CLOSE_TOO_MANY, "address_rate"
        if self.open_by_address.get(address, 0) >= self.per_address:
            return CLOSE_TOO_MANY, "address_cap"
        if self.open_total >= self.max_sockets:
            return CLOSE_TRY_AGAIN_LATER, "descriptors"
        self.open_total += 1
        self.open_by_address[address] = self.open_by_address.get(address, 0) + 1
        return None

    def release(self, address: str) -> None:
        """A socket of `address` admitted earlier has ended."""
        self.open_total -= 1
        left = self.open_by_address.get(address, 1) - 1
        if left > 0:
            self.open_by_address[address] = left
        else:
            self.open_by_address.pop(address, None)

    def should_log(self, address: str) -> bool:
        now = time.monotonic()
        if now - self.logged_at.get(address, -LOG_EVERY_SECONDS) < LOG_EVERY_SECONDS:
            return False
        if len(self.logged_at) > 10_000:
            self.logged_at = {a: t for a, t in self.logged_at.items() if now - t < LOG_EVERY_SECONDS}
        self.logged_at[address] = now
        return True

    def _forget_idle_budgets(self, now: float) -> None:
        # A budget unused for long enough to refill says nothing a new one
        # would not: forgetting it keeps the dict from growing with every
        # address ever seen.
        refill = self.burst / self.rate if self.rate > 0 else float("inf")
        self.budgets = {
            address: (budget, seen) for address, (budget, seen) in self.budgets.items() if now - seen < refill
        }


async def refuse(receive, send, code: int) -> None:
    """Accept, then close with `code`: a refused handshake would reach the
    client as a bare HTTP 403 it cannot tell apart from others."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": code})


class ConnectionGuard:
    """ASGI middleware applying the limits above to WebSocket handshakes."""

    _asgi_single_callable = True

    def __init__(self, application):
        self.application = application
        self.book: AddressBook | None = None

    def started(self) -> AddressBook:
        # On the first handshake, not on import: only a serving process
        # raises its descriptor limit.
        limit = raise_descriptor_limit()
        reserve = settings.REALTIME_DESCRIPTOR_RESERVE
        max_sockets = max(1, limit - reserve)
        WEBSOCKETS_MAX.set(max_sockets)
        logger.info(
            "descriptor limit %d: WebSockets past %d are refused (reserve %d)",
            limit,
            max_sockets,
            reserve,
        )
        return AddressBook(
            per_address=settings.REALTIME_MAX_SOCKETS_PER_ADDRESS,
            rate=settings.REALTIME_HANDSHAKES_PER_SECOND,
            burst=settings.REALTIME_HANDSHAKES_BURST,
            max_sockets=max_sockets,
        )

    def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return self.application(scope, receive, send)
        book = self.book or self._start()
        address = scope_client(scope)
        refusal = book.admit(address)
        if refusal is not None:
            code, reason = refusal
            HANDSHAKES_REFUSED.labels(reason=reason).inc()
            if book.should_log(address):
                logger.warning(
                    "refusing WebSockets from %s (%s, close %d); more refusals of it "
                    "this minute are counted in /metrics, not logged",
                    address,
                    reason,
                    code,
                )
            return refuse(receive, send, code)
        return self._admitted(book, address, scope, receive, send)

    async def _admitted(self, book: AddressBook, address: str, scope, receive, send):
        # One frame per open socket (a few hundred bytes); the Origin check
        # became a plain function, which gave one back.
        try:
            return await self.application(scope, receive, send)
        finally:
            book.release(address)

    def _start(self) -> AddressBook:
        self.book = self.started()
        return self.book
