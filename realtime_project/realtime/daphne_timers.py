"""Daphne's keepalive and timeout checks, spread over their period.

Every two seconds Daphne's `timeout_checker` walks every connection in one
pass: handshake and idle timeouts, and a ping to each connection whose
last one is 20 s old. Connections that opened together come due together,
so at 10,000 connections each pass sent about a thousand pings, and their
pongs came back at once: measured (docs/PERFORMANCE.md, item 15) the pass
held the event loop for 60-85 ms every two seconds, and messages arriving
meanwhile waited behind it (targeted p99 119 ms at 1,000 messages/s).

Here each pass covers a twentieth of the connections, every tenth of a
second: each connection is still checked about every two seconds, and the
work is done in steps of a few milliseconds. (A connection that moves
between slices, as others close before it, is checked a pass later.)
"""

CHECK_PERIOD_SECONDS = 2.0  # Daphne's own period
SLICES = 20


def install_spread_timeout_checks() -> None:
    from daphne.server import Server
    from twisted.internet import reactor

    if getattr(Server.timeout_checker, "spread", False):
        return

    def timeout_checker(self):
        step = self.__dict__.get("timeout_slice", 0)
        for protocol in list(self.connections)[step::SLICES]:
            protocol.check_timeouts()
        self.timeout_slice = (step + 1) % SLICES
        reactor.callLater(CHECK_PERIOD_SECONDS / SLICES, self.timeout_checker)

    timeout_checker.spread = True
    Server.timeout_checker = timeout_checker
