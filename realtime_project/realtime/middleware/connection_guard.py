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
- past REALTIME_ADMISSIONS_PER_SECOND new WebSockets a second over the whole
  process (bursts up to REALTIME_ADMISSIONS_BURST), the process is
  overloaded: a new socket is sent `reconnect` with an `after_ms` and closed
  with 1013, the waiting room below.
The checks run before authentication, so a refused handshake costs no
database read. Refusals are counted in /metrics and logged once per address
(once per process, for the waiting room) per minute: a flood must not also
flood the log.

The waiting room. When every client of a process reconnects at once (a
restart, a network blip), admitting them all lets each one's setup queue
behind everyone else's: clients time out before theirs is done, reconnect,
and queue again, and the process does work for clients that have given up.
Admitting no faster than the process sets connections up keeps each
admitted setup short; telling each refused client when to come back turns
the storm into a paced queue instead of a retry loop:
- the signal is an admission rate, a token bucket over the process, not the
  number of setups in progress or the event loop's lag. The slots given to
  the refused need a rate anyway; a rate is known before any work is done,
  costs nothing to check, and cannot oscillate, while a setup's end is not
  visible from here (a `/ws/` tab's work is its subscribes, after the
  handshake) and the loop's lag misses the queue of the database thread.
  The default sits under what one process sets up; an operator measures
  their own with bench/muxload.py. 0 turns the room off;
- each refused client gets the next free slot, 1 / rate after the previous
  one, starting when the bucket next holds a token: the refused come back
  at the rate the bucket refills, so each finds a token waiting. Clients
  carry no ticket, so a newcomer may take the token of a client still on
  its way, who is then given a later slot: the process still admits at its
  rate, and refusing costs no database read. The bucket keeps no more than
  the burst, so the burst is also how late (burst / rate) a client may be
  and still find its token: far more than a client's jitter;
- no slot is further away than REALTIME_ADMISSION_MAX_WAIT_SECONDS: past it
  a client is told to come back then, with no slot held for it, and queues
  again on its return. Nobody waits forever, and slots are not held for
  clients that may never come back.
"""

import logging
import math
import resource
import time

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .. import protocol
from ..ops.metrics import HANDSHAKES_REFUSED, WEBSOCKETS_MAX
from ..rate_limit import RateLimit
from .client_address import scope_client

logger = logging.getLogger(__name__)

CLOSE_TOO_MANY = 4429
CLOSE_TRY_AGAIN_LATER = 1013
LOG_EVERY_SECONDS = 60.0
ADMISSION_SETTINGS = (
    "REALTIME_ADMISSIONS_PER_SECOND",
    "REALTIME_ADMISSIONS_BURST",
    "REALTIME_ADMISSION_MAX_WAIT_SECONDS",
)


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


class WaitingRoom:
    """Admissions over the whole process: `rate` a second, bursts up to
    `burst`; past them, a time to come back (the module's docstring)."""

    def __init__(self, *, rate: float, burst: int, max_wait: float, clock=time.monotonic):
        self.rate = rate
        self.burst = max(1, burst)
        self.max_wait = max_wait
        self.clock = clock
        self.tokens = float(self.burst)
        self.updated = clock()
        # When the next refused client is to come back (the clock's time).
        self.next_slot = self.updated
        self.logged_at = -LOG_EVERY_SECONDS

    def admit(self) -> float | None:
        """Count a handshake; return None if it may go on, else the seconds
        after which its client is to come back."""
        if self.rate <= 0:
            return None
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        # Less a rounding error: a client back exactly at its slot finds
        # the token it was promised.
        if self.tokens >= 1 - 1e-9:
            self.tokens = max(0.0, self.tokens - 1)
            return None
        slot = max(self.next_slot, now + (1 - self.tokens) / self.rate)
        if slot - now > self.max_wait:
            return self.max_wait
        self.next_slot = slot + 1 / self.rate
        return slot - now

    def should_log(self) -> bool:
        now = self.clock()
        if now - self.logged_at < LOG_EVERY_SECONDS:
            return False
        self.logged_at = now
        return True


# One per process, as the rate it keeps is the process's; made on the first
# handshake, not on import, so that it reads the settings in force.
_room: WaitingRoom | None = None


def waiting_room() -> WaitingRoom:
    """This process's waiting room."""
    global _room
    if _room is None:
        _room = WaitingRoom(
            rate=settings.REALTIME_ADMISSIONS_PER_SECOND,
            burst=settings.REALTIME_ADMISSIONS_BURST,
            max_wait=settings.REALTIME_ADMISSION_MAX_WAIT_SECONDS,
        )
    return _room


@receiver(setting_changed, dispatch_uid="connection_guard_admission_settings")
def admission_settings_changed(*, setting, **kwargs):
    # As DRF's api_settings: a test's override_settings takes effect on the
    # next handshake, and the room made under it does not outlive it.
    global _room
    if setting in ADMISSION_SETTINGS:
        _room = None


def after_ms(seconds: float) -> int:
    # Rounded up: a client back a fraction of a millisecond before its slot
    # would find the bucket a fraction of a token short.
    return math.ceil(seconds * 1000)


async def refuse(receive, send, code: int, text: str | None = None) -> None:
    """Accept, send `text` if any, then close with `code`: a refused
    handshake would reach the client as a bare HTTP 403 it cannot tell apart
    from others."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    if text is not None:
        await send({"type": "websocket.send", "text": text})
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
        room = waiting_room()
        wait = room.admit()
        if wait is not None:
            book.release(address)
            return self._turned_away(room, wait, receive, send)
        return self._admitted(book, address, scope, receive, send)

    def _turned_away(self, room: WaitingRoom, wait: float, receive, send):
        HANDSHAKES_REFUSED.labels(reason="overload").inc()
        if room.should_log():
            logger.warning(
                "overloaded: new WebSockets past %g a second (bursts of %d) are told to come "
                "back later (reconnect, close %d); more this minute are counted in /metrics, "
                "not logged",
                room.rate,
                room.burst,
                CLOSE_TRY_AGAIN_LATER,
            )
        frame = protocol.encode(protocol.RECONNECT, {"after_ms": after_ms(wait)})
        return refuse(receive, send, CLOSE_TRY_AGAIN_LATER, frame)

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
