"""The server: Daphne's `Server`, subclassed.

- Its factories are this package's (http.py, websocket.py). Daphne's
  `Server.run` builds them itself, with no hook to name their classes: the
  two attributes it assigns them to are properties here, which build ours
  instead (the one override of its kind; tests/server/test_upstream_fence.py
  fails when `Server.run` changes).
- Each application's input queue is an Inbox (inbox.py) rather than an
  `asyncio.Queue`, which costs memory even when empty, as it nearly always
  is (docs/PERFORMANCE.md, item 7).
- A WebSocket's scope carries the `realtime.socket` extension: the protocol
  the application's frames may be written to directly (delivery.py).
- The keepalive and timeout checks are spread over their period
  (timeout_checker).
- The access log leaves query strings and credentials out (access_log.py).
- A stopping process drains (drain.py) in Daphne's own before-shutdown
  trigger, kill_all_applications, before Daphne cancels what is left; it
  knows its listening ports from listen_success.
- Daphne's `--websocket_timeout` ends each socket at a deadline of its own
  (websocket.py, RealtimeWebSocketProtocol.check_timeouts), not every
  socket of a burst in the same second.
"""

import asyncio
from functools import partial

from daphne.access import AccessLogGenerator
from daphne.server import Server
from twisted.internet import reactor

from ..inbox import Inbox
from .access_log import RedactingAccessLog
from .drain import Drain
from .extension import SOCKET_EXTENSION
from .http import RealtimeHTTPFactory
from .process import prepare_server_process
from .versions import fast_path_allowed
from .websocket import RealtimeWebSocketFactory

# Daphne's own period for the keepalive and timeout checks.
CHECK_PERIOD_SECONDS = 2.0
# Each pass checks this share of the connections (see timeout_checker).
SLICES = 20


class RealtimeServer(Server):
    def __init__(self, *args, action_logger=None, **kwargs):
        from django.conf import settings

        if type(action_logger) is AccessLogGenerator:
            action_logger = RedactingAccessLog(action_logger.stream)
        super().__init__(*args, action_logger=action_logger, **kwargs)
        # Off when the version fence finds libraries it was not tested with.
        self.fast_path = fast_path_allowed()
        # What the factories hand their protocols (websocket.py, http.py).
        self.max_client_message_bytes = settings.REALTIME_MAX_MESSAGE_BYTES
        self.max_queued_bytes = settings.REALTIME_MAX_QUEUED_BYTES
        self.header_timeout = settings.REALTIME_HEADER_TIMEOUT_SECONDS
        self.max_request_bytes = settings.REALTIME_MAX_REQUEST_BYTES
        self.drain_seconds = settings.REALTIME_DRAIN_SECONDS
        # Daphne's socket timeout, taken over by the protocol, which spreads
        # it per socket; Daphne's own check of it (-1: off) must not fire.
        self.websocket_lifetime = self.websocket_timeout
        self.websocket_timeout = -1
        # The listening ports, which a drain stops first (listen_success).
        self.ports: list = []
        self._check_round: list = []
        self._check_step = 0

    def run(self):
        # The application is loaded: what is process-wide can be set (and
        # what start-up made, frozen) before the reactor starts.
        prepare_server_process(fast_path=self.fast_path)
        super().run()

    def listen_success(self, port):
        # Daphne's listeners' Deferreds end with this method's result (None):
        # the port is kept here, where a drain finds it.
        self.ports.append(port)
        return super().listen_success(port)

    def kill_all_applications(self):
        """Drain (drain.py), then let Daphne cancel what is still running.

        Daphne has the reactor call this before it shuts down (on SIGTERM,
        SIGINT, or any other stop) and waits for the Deferred it returns, so
        the reactor goes on serving every connection meanwhile."""
        drained = Drain(self, self.drain_seconds).start()

        def cancel_the_rest(_):
            return super(RealtimeServer, self).kill_all_applications()

        drained.addCallback(cancel_the_rest)
        return drained

    # Daphne's run() assigns factories of its own classes to these.

    @property
    def http_factory(self):
        return self.__dict__.get("_http_factory")

    @http_factory.setter
    def http_factory(self, stock):
        self._http_factory = RealtimeHTTPFactory(self)

    @property
    def ws_factory(self):
        return self.__dict__.get("_ws_factory")

    @ws_factory.setter
    def ws_factory(self, stock):
        self._ws_factory = RealtimeWebSocketFactory(self, server=self.server_name)

    def create_application(self, protocol, scope):
        # Daphne's create_application, with an Inbox for its asyncio.Queue
        # and the socket extension for WebSockets.
        assert "application_instance" not in self.connections[protocol]
        input_queue = Inbox()
        scope.setdefault("asgi", {"version": "3.0"})
        if self.fast_path and scope.get("type") == "websocket":
            scope.setdefault("extensions", {})[SOCKET_EXTENSION] = protocol
        application_instance = self.application(
            scope=scope,
            receive=input_queue.get,
            send=partial(self.handle_reply, protocol),
        )
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(
            application_instance,
            loop=asyncio.get_event_loop(),
        )
        return input_queue

    def timeout_checker(self):
        """Daphne's keepalive and timeout checks, spread over their period.

        Daphne checks every connection every two seconds in one pass, so
        connections that opened together get their pings together, and
        their pongs come back together: the pass and the pongs held the
        loop long enough to delay messages (docs/PERFORMANCE.md, item 15).
        Here a round takes the connections open at its start and checks a
        twentieth of them every tenth of a second. A connection is checked
        once per round, and at most two rounds apart (one opened just after
        a round began waits for the next), whatever closes meanwhile."""
        if not self._check_round:
            self._check_round = list(self.connections)
            self._check_step = 0
        round_, step = self._check_round, self._check_step
        size = -(-len(round_) // SLICES)
        for protocol in round_[step * size : (step + 1) * size]:
            if protocol in self.connections:
                protocol.check_timeouts()
        self._check_step = step + 1
        if self._check_step >= SLICES:
            self._check_round = []
        reactor.callLater(CHECK_PERIOD_SECONDS / SLICES, self.timeout_checker)
