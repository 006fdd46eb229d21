"""Daphne's timeout and keepalive checks, a slice of the connections at a
time (realtime/daphne_timers.py)."""

from daphne.server import Server
from twisted.internet import reactor

from realtime_project.realtime.daphne_timers import (
    CHECK_PERIOD_SECONDS,
    SLICES,
    install_spread_timeout_checks,
)

install_spread_timeout_checks()


class Connection:
    def __init__(self):
        self.checks = 0

    def check_timeouts(self):
        self.checks += 1


class DaphneServer:
    """What timeout_checker reads of Daphne's Server."""

    timeout_checker = Server.timeout_checker

    def __init__(self, connections: int):
        self.connections = {Connection(): {} for _ in range(connections)}


def test_one_period_of_passes_checks_every_connection_once_in_small_slices(monkeypatch):
    scheduled = []
    monkeypatch.setattr(reactor, "callLater", lambda delay, call: scheduled.append(delay))
    server = DaphneServer(1003)
    largest_pass = 0
    for _ in range(SLICES):
        before = sum(connection.checks for connection in server.connections)
        server.timeout_checker()
        largest_pass = max(largest_pass, sum(c.checks for c in server.connections) - before)
    assert [connection.checks for connection in server.connections] == [1] * 1003
    assert largest_pass == -(-1003 // SLICES)
    assert scheduled == [CHECK_PERIOD_SECONDS / SLICES] * SLICES


def test_a_connection_opened_meanwhile_is_checked_within_the_next_period(monkeypatch):
    monkeypatch.setattr(reactor, "callLater", lambda delay, call: None)
    server = DaphneServer(40)
    for _ in range(SLICES // 2):
        server.timeout_checker()
    newcomer = Connection()
    server.connections[newcomer] = {}
    for _ in range(SLICES):
        server.timeout_checker()
    assert newcomer.checks >= 1
