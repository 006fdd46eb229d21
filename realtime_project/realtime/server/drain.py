"""The drain of a stopping server process (PROTOCOL.md, "A server process
that stops").

Stock Daphne exits at once on SIGTERM: every client loses its socket
without a close frame in the same instant, and they all reconnect together
to the processes left (docs/RELIABILITY.md, "Drain on restart"). Here a
stopping process:
- stops listening at once, so that nginx and the other processes take new
  connections (a connection attempt is refused), and asks kept-alive HTTP
  connections to close (idle ones now, busy ones after their response);
- sends each open WebSocket `reconnect` (with its `after_ms`) and then
  closes it with 1012, a batch every TICK_SECONDS, over the first
  CLOSE_SHARE of REALTIME_DRAIN_SECONDS. The rest of the window is for the
  closing handshakes and the consumers' own cleanup (their
  websocket.disconnect: groups left, presence counted down);
- gives each client an `after_ms` that puts its reconnection at an even
  place over the whole window: the clients of a process land on the others
  at clients / drain-seconds a second, not all at once;
- ends when every connection, HTTP requests included, is over, or at the
  end of the window, when what is left is cut off; Daphne then cancels any
  application instance still running, and the process exits.

What is written to a socket before its close frame (a broadcast already
handed to Twisted) goes out first: TCP keeps the order. The first batch
waits one tick, so that a broadcast published just before the SIGTERM is
still on its way through the channel layer for a moment, not cut off;
anything published later reaches the client by resume (`?since=`).

A second SIGTERM or SIGINT during the drain ends it at once: what is still
open is told to reconnect and cut off.
"""

import logging
import math
import random
import signal
import threading
import time

from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import defer, reactor

from ..protocol import RECONNECT, encode

logger = logging.getLogger(__name__)

# RFC 6455's "Service Restart".
CLOSE_SERVICE_RESTART = 1012
# Closes go out in batches this far apart: fine enough that the reconnects
# are even to the eye of a per-second rate, coarse enough that thousands of
# sockets cost tens of timer calls a second, not thousands.
TICK_SECONDS = 0.05
# The share of the window over which sockets are closed; the rest is for
# their closing handshakes and the consumers' cleanup before the deadline.
CLOSE_SHARE = 0.8
# After the deadline, how long the drain waits for Daphne's application
# checker (once a second) to forget the connections it cut off: Daphne's
# kill_all_applications expects every connection it holds to have an
# application instance.
FORGET_SECONDS = 1.5


def reconnect_frame(after_ms: int) -> str:
    """The JSON text of `reconnect`."""
    return encode(RECONNECT, {"after_ms": after_ms})


def close_for_restart(protocol, after_ms: int) -> None:
    """Send `reconnect` with `after_ms` on an open WebSocket, then close it with 1012."""
    protocol.serverSend(reconnect_frame(after_ms), False)
    protocol.serverClose(code=CLOSE_SERVICE_RESTART)


class Drain:
    """The drain of one RealtimeServer, from start() until its Deferred fires.

    `server` gives its `connections` (Daphne's dict), `ports` (its listening
    ports) and `http_factory`; `seconds` is the window."""

    def __init__(self, server, seconds: float, *, clock=reactor, rng: random.Random | None = None):
        self.server = server
        self.seconds = max(0.0, float(seconds))
        self.clock = clock
        self.rng = rng or random.Random()
        self.done = defer.Deferred()
        self.started = None
        # protocol -> (tick it closes at, seconds after start its client is to reconnect)
        self.plan: dict = {}
        self.ticks = 0
        self.tick = 0
        self._call = None
        self._finished = False

    # The timeline

    def start(self) -> defer.Deferred:
        """Begin the drain: stop listening and plan the closes. Return a
        Deferred that fires once the drain is over."""
        self.started = time.monotonic()
        logger.info("stopping: draining %d connections over %g s", len(self.server.connections), self.seconds)
        self.stop_listening()
        self.stop_keeping_alive()
        self.ticks = max(1, math.ceil(self.seconds * CLOSE_SHARE / TICK_SECONDS))
        sockets = self.open_sockets()
        self.rng.shuffle(sockets)
        for place, protocol in enumerate(sockets):
            share = (place + self.rng.random()) / len(sockets)
            # At least the first tick: see the module's docstring.
            self.plan[protocol] = (max(1, math.ceil(share * self.ticks)), share * self.seconds)
        self.take_over_signals()
        self._call = self.clock.callLater(TICK_SECONDS, self.step)
        return self.done

    def step(self) -> None:
        self._call = None
        if self._finished:
            return
        self.tick += 1
        self.close_due()
        elapsed = time.monotonic() - self.started
        if elapsed >= self.seconds:
            self.cut_off()
            return
        if not self.server.connections:
            self.finish()
            return
        self._call = self.clock.callLater(TICK_SECONDS, self.step)

    def close_due(self) -> None:
        """Close the sockets whose tick has come, and any that opened since
        the drain began (their handshake was under way): those at once."""
        elapsed = time.monotonic() - self.started
        for protocol in self.open_sockets():
            late = (self.tick, elapsed + TICK_SECONDS * self.rng.random())
            tick, reconnect_at = self.plan.get(protocol, late)
            if tick <= self.tick:
                self.plan.pop(protocol, None)
                close_for_restart(protocol, max(0, round((reconnect_at - elapsed) * 1000)))

    def cut_off(self) -> None:
        """The window is over: close what is still open, drop every
        connection left, and end once Daphne has forgotten them."""
        self.close_everything_now()
        for protocol in list(self.server.connections):
            transport = getattr(protocol, "transport", None)
            if transport is not None:
                transport.abortConnection()
        deadline = time.monotonic() + FORGET_SECONDS
        self._call = self.clock.callLater(TICK_SECONDS, self.wait_until_forgotten, deadline)

    def wait_until_forgotten(self, deadline: float) -> None:
        self._call = None
        connections = self.server.connections.values()
        if all("application_instance" in details for details in connections) or time.monotonic() >= deadline:
            self.finish()
        else:
            self._call = self.clock.callLater(TICK_SECONDS, self.wait_until_forgotten, deadline)

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        logger.info("drained in %.1f s", time.monotonic() - self.started)
        self.done.callback(None)

    def hurry(self) -> None:
        """End the drain now (a second SIGTERM or SIGINT)."""
        if self._finished:
            return
        logger.warning("stopping now: a second signal ended the drain")
        if self._call is not None and self._call.active():
            self._call.cancel()
        self.cut_off()

    def close_everything_now(self) -> None:
        elapsed = time.monotonic() - self.started
        for protocol in self.open_sockets():
            _tick, reconnect_at = self.plan.pop(protocol, (0, elapsed))
            close_for_restart(protocol, max(0, round((reconnect_at - elapsed) * 1000)))

    # What it acts on

    def open_sockets(self) -> list:
        return [
            protocol
            for protocol, details in self.server.connections.items()
            if isinstance(protocol, WebSocketProtocol)
            and protocol.state == protocol.STATE_OPEN
            and "disconnected" not in details
        ]

    def stop_listening(self) -> None:
        for port in self.server.ports:
            port.stopListening()

    def stop_keeping_alive(self) -> None:
        stop = getattr(self.server.http_factory, "stop_keeping_alive", None)
        if stop is not None:
            stop()

    def take_over_signals(self) -> None:
        """Have a second SIGTERM or SIGINT end the drain at once (Twisted's
        own handlers would ask the reactor, already stopping, to stop)."""
        if not self.server.signal_handlers or threading.current_thread() is not threading.main_thread():
            return

        def again(signum, frame):
            self.clock.callFromThread(self.hurry)

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, again)
