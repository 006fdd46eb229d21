"""Limits on HTTP requests that only Daphne's HTTP channel can enforce.

Daphne reads every request, WebSocket handshakes included, with Twisted's
HTTPChannel, whose only timeout is an idle one of twelve hours that each
byte received starts again: a client may take as long as it likes over its
headers (slowloris), or send none at all, and hold a descriptor meanwhile.
And Twisted takes a whole request body (on disk past 100 KB) before Daphne
hands the request to Django, which is the first to look at who sent it: an
anonymous upload of any size was stored whole, then refused with 401
(docs/SECURITY.md, "The server itself").

Here, on the channel itself (so that it holds without nginx in front):
- a request's headers must be complete within REALTIME_HEADER_TIMEOUT_SECONDS
  of the connection opening, or of the first byte of a request on a kept-alive
  connection; past that the client gets a 408 (or, if it sent nothing, the
  connection is closed);
- a Content-Length over REALTIME_MAX_REQUEST_BYTES is answered with 413
  before a byte of the body is read (nor a 100 Continue sent), and a chunked
  body is cut off with 413 as soon as it grows past that;
- a connection may be silent for IDLE_SECONDS at most: between two requests
  on a kept-alive connection, or in the middle of a body. A slow upload that
  keeps sending is left alone.
The answers are JSON, as the API's errors are.

When the process stops (drain.py), the factory asks each of its channels to
stop keeping alive: one idle between requests closes at once, one in the
middle of a request closes after its response (`Connection: close`), so
that nginx sends no more requests to a process that is going away.
"""

import json
import logging
import weakref

from autobahn.twisted.websocket import WebSocketServerProtocol
from daphne.http_protocol import HTTPFactory, WebRequest
from twisted.web import http

from ..ops.metrics import CLIENTS_DROPPED
from .access_log import forwarded_client_request, request_client

logger = logging.getLogger(__name__)

# Longer than nginx's upstream keepalive_timeout (60 s): nginx, which keeps
# connections to Daphne open for reuse, must be the one to close an idle one,
# or it may send a request on a connection Daphne is closing (a 502 for a
# POST, which nginx does not retry).
IDLE_SECONDS = 75.0
# After a refusal, what the client still sends is read and dropped for this
# long before the connection is closed: closing with its data unread would
# reset the connection, and a client that sends its whole body before
# reading (urllib, requests) would meet the reset instead of the answer.
LINGER_SECONDS = 2.0


def refusal(status: int, reason: bytes, detail: str) -> bytes:
    """A complete HTTP/1.1 response with a JSON `{"detail": ...}` body, after
    which the connection closes."""
    body = json.dumps({"detail": detail}).encode()
    head = (
        b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n" % (status, reason, len(body))
    )
    return head + body


def _discard(*args) -> None:
    pass


class BoundedHTTPChannel(http.HTTPChannel):
    """Twisted's HTTPChannel with a deadline for request headers and a
    limit on request bodies (see the module's docstring).

    The deadline is the channel's own timeout (Twisted's TimeoutMixin), so
    a connection costs no timer more than before: while headers are awaited
    it is not started again by each byte, and past them it is the idle
    timeout again."""

    header_timeout = 10.0
    max_body_bytes = 1 << 20

    # A fresh connection waits for its first request's headers at once; a
    # kept-alive one is idle until the first byte of the next request.
    _awaiting_headers = True
    _between_requests = False
    _body_bytes = 0
    _refused = False
    _linger = None
    # Set when the process drains: no request is kept alive after its response.
    _closing_after_response = False

    def connectionMade(self):
        self.timeOut = self.header_timeout
        super().connectionMade()

    def dataReceived(self, data):
        if self._refused:
            return
        if self._between_requests:
            self._between_requests = False
            self._awaiting_headers = True
            self.setTimeout(self.header_timeout)
        super().dataReceived(data)

    def resetTimeout(self):
        if not self._awaiting_headers:
            super().resetTimeout()

    def rawDataReceived(self, data):
        # The rest of the segment whose headers were refused, and what follows.
        if not self._refused:
            super().rawDataReceived(data)

    def allHeadersReceived(self):
        self._awaiting_headers = False
        if self.length is not None and self.length > self.max_body_bytes:
            # Before Twisted opens a file for the body or sends 100 Continue.
            self._refuse_body()
            return
        # The idle timeout again, for the body; Twisted cancels it once the
        # body is in (allContentReceived) and restores it after the response.
        self.setTimeout(IDLE_SECONDS)
        if self.length is None:
            self._count_chunked_body()
        super().allHeadersReceived()

    def checkPersistence(self, request, version):
        if self._closing_after_response:
            request.responseHeaders.setRawHeaders(b"Connection", [b"close"])
            return False
        return super().checkPersistence(request, version)

    def stop_keeping_alive(self):
        """Close after the next response. An idle connection is left open:
        its peer (nginx, reusing its connections) may be sending a request
        on it at this very moment, and could not retry a POST it lost
        (a 502). nginx closes its idle connections first (keepalive_timeout,
        shorter than the drain); any other closes with the process."""
        self._closing_after_response = True
        if self.requests:
            # Its headers are in: checkPersistence has already answered.
            self.persistent = False

    def requestDone(self, request):
        # Before Twisted parses any pipelined request it holds.
        self._between_requests = bool(self.persistent)
        super().requestDone(request)

    def timeoutConnection(self):
        if self._refused:
            return
        if not self._awaiting_headers:
            super().timeoutConnection()
            return
        CLIENTS_DROPPED.labels(reason="slow request headers").inc()
        if not (self._buffer or self._receivedHeaderSize):
            # Not a byte of a request: nothing to answer.
            self._refused = True
            self.loseConnection()
            return
        self._refuse(
            408,
            b"Request Timeout",
            f"Request headers took too long: send them within {self.header_timeout:g} seconds.",
        )

    def connectionLost(self, reason):
        if self._linger is not None and self._linger.active():
            self._linger.cancel()
        self._linger = None
        super().connectionLost(reason)

    # The body limit

    def _count_chunked_body(self):
        decoder = self._transferDecoder
        deliver = decoder.dataCallback

        def count(data):
            self._body_bytes += len(data)
            if self._body_bytes > self.max_body_bytes:
                # The decoder goes on with what it holds: none of it is taken.
                decoder.dataCallback = decoder.finishCallback = _discard
                self._refuse_body()
            else:
                deliver(data)

        self._body_bytes = 0
        decoder.dataCallback = count

    def _refuse_body(self):
        CLIENTS_DROPPED.labels(reason="request too large").inc()
        self._refuse(
            413,
            b"Content Too Large",
            f"Request body too large: at most {self.max_body_bytes} bytes.",
        )

    def _refuse(self, status: int, reason: bytes, detail: str):
        """Answer `status` now, whatever the request's state, then drop what
        the client still sends and close."""
        self._refused = True
        self.persistent = False
        self.setTimeout(None)
        transport = self.transport
        transport.write(refusal(status, reason, detail))
        try:
            self._log_refusal(status)
        except Exception:
            # As Daphne does for its own access log lines: the answer matters more.
            logger.exception("could not write the access log line of a refused request")
        # Half-close: the answer and a FIN go out, reading goes on (and
        # drops everything) until the client closes or the linger ends.
        close_writing = getattr(transport, "loseWriteConnection", transport.loseConnection)
        close_writing()
        self._linger = self.callLater(LINGER_SECONDS, transport.abortConnection)

    def _log_refusal(self, status: int):
        """An access log line, as Daphne writes for the requests it answers."""
        server = getattr(getattr(self, "factory", None), "server", None)
        if server is None or not self.requests or not hasattr(self, "_command"):
            return
        client = request_client(self.requests[-1])
        server.log_action(
            "http",
            "complete",
            {
                "path": self._path.decode("ascii", "replace"),
                "status": status,
                "method": self._command.decode("ascii", "replace"),
                "client": "%s:%s" % client if client else None,
                "time_taken": 0,
                "size": 0,
            },
        )


class RealtimeHTTPFactory(HTTPFactory):
    """Daphne's HTTP factory, building BoundedHTTPChannel channels whose
    requests name the client a trusted proxy forwards (access_log.py)."""

    request_class = forwarded_client_request(WebRequest)

    def __init__(self, server):
        super().__init__(server)
        # The server's limits, as class attributes of a channel class of
        # this factory's own: nothing copied into each connection.
        self.channel_class = type(
            BoundedHTTPChannel.__name__,
            (BoundedHTTPChannel,),
            {
                "header_timeout": server.header_timeout,
                "max_body_bytes": server.max_request_bytes,
                "__module__": BoundedHTTPChannel.__module__,
            },
        )

        # Every channel, for stop_keeping_alive.
        self.channels = weakref.WeakSet()

    def protocol(self):
        # What Twisted's HTTPFactory.protocol builds, with our channel.
        channel = self.channel_class()
        self.channels.add(channel)
        return http._GenericHTTPChannelProtocol(channel)

    def stop_keeping_alive(self):
        """Ask each HTTP connection to close once idle (see the module's docstring)."""
        for channel in list(self.channels):
            transport = channel.transport
            if transport is None or not getattr(transport, "connected", True):
                continue
            # A WebSocket handshake hands the transport over to the WebSocket
            # (Daphne's WebRequest.process): that channel must not close it.
            owner = getattr(transport, "wrappedProtocol", getattr(transport, "protocol", None))
            if isinstance(owner, WebSocketServerProtocol):
                continue
            channel.stop_keeping_alive()

    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        # Twisted's HTTPFactory sets its twelve-hour default on each protocol.
        protocol.timeOut = IDLE_SECONDS
        protocol.requestFactory = self.request_class
        return protocol
