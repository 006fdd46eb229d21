"""Daphne's timeout and keepalive checks, a slice of the connections at a
time (RealtimeServer.timeout_checker, realtime/server/server.py).

The real timeout_checker runs on a RealtimeServer built as Daphne's CLI
builds it; only `reactor.callLater` is replaced, so that the test, not the
reactor, decides when the next pass runs and what the clock reads then."""

import random

import pytest
from twisted.internet import reactor

from realtime_project.realtime.server.server import CHECK_PERIOD_SECONDS, SLICES, RealtimeServer


class Connection:
    """What timeout_checker reads of a Daphne protocol: it records when it
    was checked, by the simulated clock."""

    def __init__(self, clock, opened_at: float = 0.0):
        self.clock = clock
        self.opened_at = opened_at
        self.closed_at = None
        self.checked_at: list[float] = []

    def check_timeouts(self):
        self.checked_at.append(self.clock.now)


class Clock:
    def __init__(self):
        self.now = 0.0


@pytest.fixture
def scheduled(monkeypatch):
    """The calls timeout_checker schedules, as (delay, function), in order."""
    calls: list = []
    monkeypatch.setattr(reactor, "callLater", lambda delay, function: calls.append((delay, function)))
    return calls


def checking_server(connections) -> RealtimeServer:
    server = RealtimeServer(application=None, endpoints=["tcp:port=0"])
    # Daphne's run() makes this table; nothing else of run() is needed.
    server.connections = {connection: {} for connection in connections}
    return server


def test_one_period_of_passes_checks_every_connection_once_in_small_slices(scheduled):
    clock = Clock()
    server = checking_server(Connection(clock) for _ in range(1003))
    largest_pass = 0
    for _ in range(SLICES):
        before = sum(len(connection.checked_at) for connection in server.connections)
        server.timeout_checker()
        after = sum(len(connection.checked_at) for connection in server.connections)
        largest_pass = max(largest_pass, after - before)
    assert [len(connection.checked_at) for connection in server.connections] == [1] * 1003
    assert largest_pass == -(-1003 // SLICES)
    assert [delay for delay, _ in scheduled] == [CHECK_PERIOD_SECONDS / SLICES] * SLICES


def test_a_connection_opened_during_a_round_is_checked_within_the_next_one(scheduled):
    clock = Clock()
    server = checking_server(Connection(clock) for _ in range(40))
    for _ in range(SLICES // 2):
        server.timeout_checker()
    newcomer = Connection(clock)
    server.connections[newcomer] = {}
    # The rest of this round, which took its connections before the newcomer.
    for _ in range(SLICES - SLICES // 2):
        server.timeout_checker()
    assert newcomer.checked_at == []
    for _ in range(SLICES):
        server.timeout_checker()
    assert len(newcomer.checked_at) == 1


def test_under_churn_every_connection_is_checked_within_a_ping_interval_and_a_check_period(scheduled):
    # 10,000 open connections, 10 closing and 10 opening every second, for
    # two minutes: autobahn pings a connection only when a check finds it
    # idle for ping_interval, so a connection must never go longer than
    # ping_interval plus one check period between two checks.
    clock = Clock()
    chance = random.Random(15)
    everyone = [Connection(clock) for _ in range(10_000)]
    server = checking_server(everyone)
    duration, churn = 120.0, 10
    next_churn = 1.0

    server.timeout_checker()
    while clock.now < duration:
        delay, function = scheduled.pop(0)
        assert function == server.timeout_checker, "the checker reschedules itself"
        clock.now += delay
        while clock.now >= next_churn:
            for leaving in chance.sample(list(server.connections), churn):
                del server.connections[leaving]
                leaving.closed_at = clock.now
            for _ in range(churn):
                arriving = Connection(clock, opened_at=clock.now)
                everyone.append(arriving)
                server.connections[arriving] = {}
            next_churn += 1.0
        function()

    bound = server.ping_interval + CHECK_PERIOD_SECONDS
    largest_gap = 0.0
    for connection in everyone:
        ended_at = connection.closed_at if connection.closed_at is not None else clock.now
        # From opening to the first check, between checks, and from the
        # last check to its end (or to the end of the run).
        moments = [connection.opened_at, *connection.checked_at]
        if ended_at - connection.opened_at > bound:
            assert connection.checked_at, (
                f"a connection open for {ended_at - connection.opened_at:.1f} s was never checked"
            )
            moments.append(ended_at)
        gaps = [later - earlier for earlier, later in zip(moments, moments[1:])]
        largest_gap = max(largest_gap, *gaps, 0.0)
    assert largest_gap <= bound
    # Two rounds at most (one opened just after a round began waits for the
    # next): far below the bound, which a slower spread would still meet.
    assert largest_gap <= 2 * CHECK_PERIOD_SECONDS + 0.5, f"largest gap {largest_gap:.2f} s"
    assert len(everyone) == 10_000 + churn * int(duration)
