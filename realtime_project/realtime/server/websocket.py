"""The WebSocket protocol of the server: Daphne's, subclassed.

What it adds to Daphne's `WebSocketProtocol`, each for a reason given where
it is done:
- limits (limits.py): a client message past REALTIME_MAX_MESSAGE_BYTES (or
  Daphne's own size options, if smaller) is refused with 1009 as soon as
  its frame header announces it; a client that does not read is closed
  with 4429 once REALTIME_MAX_QUEUED_BYTES wait for it, and its kernel send
  buffer is bounded so the close frame arrives about then;
- direct writes (direct.py): every frame of an open WebSocket goes to the
  socket at once when nothing is buffered ahead of it;
- less memory per open WebSocket: what only the handshake needed is
  dropped once it is open, the upgraded HTTP request stops being the
  transport's producer, and the send queue autobahn makes for chopped sends
  is made only when one needs it;
- close codes 1012 and 1013, which autobahn refuses from applications;
- Daphne's socket timeout (`--websocket_timeout`, a day by default) per
  socket: each open socket ends at its own point in the last LIFETIME_SPREAD
  of it, chosen when it opens. Daphne closes every socket at the same age,
  so the sockets a burst opened (every client of a restarted process) would
  all be closed in the same second a day later, and reconnect together.
  The cap itself stays, as the operator's bound on a socket's life.

The factory builds protocols from a subclass holding its autobahn options
as class attributes, so that no protocol copies 29 of them into its own
`__dict__` (autobahn does, unless the protocol already has them).
"""

import random
from collections import deque

from autobahn.websocket.protocol import PayloadExceededError
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.web.http import HTTPChannel

from .direct import unwatch, write_now
from .limits import bound_send_buffer, may_send

CLOSE_OPCODE = 0x8
# RFC 6455's "Service Restart" and "Try Again Later": the codes that tell a
# client to come back (PROTOCOL.md: a draining server, one out of descriptors).
SERVICE_CODES = frozenset({1012, 1013})
# What a protocol's `send_queue` is until something needs to queue a send:
# autobahn only takes its len() and appends to it (see sendData).
NO_QUEUED_SENDS = ()
# What autobahn keeps of the handshake, read only while it is processed.
# The share of the socket timeout over which the sockets' ends are spread.
LIFETIME_SPREAD = 0.5
HANDSHAKE_LEFTOVERS = ("http_request_data", "http_response_data", "http_headers", "http_request_params")


class OpenedRequest:
    """What Daphne reads of the handshake request once the WebSocket is
    open: its path, for the access log's line when the socket closes."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path


class RealtimeWebSocketProtocol(WebSocketProtocol):
    # Each factory's subclass holds its server's (RealtimeServer: the
    # settings and the version fence; protocol_with_options).
    max_client_message_bytes = 0
    max_queued_bytes = 1 << 20
    direct_writes = True
    # The server's socket timeout in seconds (Daphne's own check of it is
    # off: RealtimeServer); negative: none.
    websocket_lifetime = -1

    def _connectionMade(self):
        super()._connectionMade()
        self.send_queue = NO_QUEUED_SENDS

    def onConnect(self, request):
        # What a client may send: Daphne's size options (the factory's,
        # class attributes here), or the project's smaller bound. What the
        # server sends is held to Daphne's options alone (serverSend).
        if self.max_client_message_bytes:
            self.maxMessagePayloadSize = _smaller(self.maxMessagePayloadSize, self.max_client_message_bytes)
            self.maxFramePayloadSize = _smaller(self.maxFramePayloadSize, self.max_client_message_bytes)
        # Send the 1009 close frame rather than just dropping the TCP connection.
        self.failByDrop = False
        bound_send_buffer(self.transport, self.max_queued_bytes)
        return super().onConnect(request)

    def onOpen(self):
        transport = self.transport
        # The upgraded request as the transport's producer: kept alive for
        # the socket's life and never used by the WebSocket (a client that
        # does not read is closed by may_send instead).
        if isinstance(getattr(transport, "producer", None), HTTPChannel):
            transport.unregisterProducer()
        result = super().onOpen()
        self.forget_handshake()
        self.choose_lifetime()
        return result

    def choose_lifetime(self):
        """Give this socket its own end, in the last LIFETIME_SPREAD of the
        server's socket timeout (none if it has none)."""
        if self.websocket_lifetime >= 0:
            self.lifetime = self.websocket_lifetime * (1 - LIFETIME_SPREAD * random.random())

    def check_timeouts(self):
        lifetime = self.__dict__.get("lifetime")
        if lifetime is not None and self.state == self.STATE_OPEN and self.duration() > lifetime:
            # As Daphne closes a socket past its timeout (1000); the client
            # reconnects and resumes.
            self.serverClose()
        super().check_timeouts()

    def forget_handshake(self):
        """Drop what only the handshake needed: the raw request and response,
        parsed headers and query parameters, and autobahn's ConnectionRequest
        (which holds them again). The application's scope has its own copy."""
        request = getattr(self, "request", None)
        if request is not None:
            self.request = OpenedRequest(request.path)
        for name in HANDSHAKE_LEFTOVERS:
            if hasattr(self, name):
                setattr(self, name, None)

    def sendData(self, data, sync=False, chopsize=None):
        if sync or chopsize:
            # autobahn queues these: the queue it would have made per protocol.
            if self.send_queue is NO_QUEUED_SENDS:
                self.send_queue = deque()
        elif self.direct_writes and not self.send_queue and self.state == self.STATE_OPEN:
            if data and data[0] & 0x0F == CLOSE_OPCODE:
                # Nothing may follow a close frame: no more plain writes.
                unwatch(self.transport)
            write_now(self.transport, data)
            self.trafficStats.outgoingOctetsWireLevel += len(data)
            return
        return super().sendData(data, sync, chopsize)

    def serverSend(self, content, binary=False):
        if not may_send(self):
            return
        limit = type(self).maxMessagePayloadSize
        size = len(content) if binary else len(content.encode("utf8"))
        if 0 < limit < size:
            # As stock Daphne: its size option holds for what is sent too.
            raise PayloadExceededError(
                f"tried to send WebSocket message with size {size} exceeding payload limit of {limit} octets"
            )
        # autobahn holds what is sent to the same limit as what is received;
        # the client's smaller bound must not cut off a replay.
        client_limit = self.__dict__.pop("maxMessagePayloadSize", None)
        try:
            super().serverSend(content, binary)
        finally:
            if client_limit is not None:
                self.maxMessagePayloadSize = client_limit

    def serverClose(self, code=None):
        if code in SERVICE_CODES:
            # autobahn's sendClose accepts only 1000 and 3000-4999 from
            # applications; its sendCloseFrame sends protocol-level codes.
            self.sendCloseFrame(code=code, isReply=False)
        else:
            super().serverClose(code)


def _smaller(limit: int, bound: int) -> int:
    # autobahn's 0 means no limit.
    return bound if limit <= 0 else min(limit, bound)


class RealtimeWebSocketFactory(WebSocketFactory):
    protocol = RealtimeWebSocketProtocol

    def buildProtocol(self, addr):
        self.protocol = self.protocol_with_options()
        return super().buildProtocol(addr)

    def protocol_with_options(self):
        """A subclass of the protocol class holding this factory's autobahn
        options as class attributes, made once (and again when the options
        change), so that no protocol copies them into its own dict."""
        base = type(self).protocol
        options = {name: getattr(self, name) for name in base.CONFIG_ATTRS}
        options.update(self.server_limits())
        made = self.__dict__.get("protocol")
        if made is None or made.factory_options != options:
            # An option may be a function (perMessageCompressionAccept): as a
            # class attribute it must not become a method of the protocol.
            attributes = {
                name: staticmethod(value) if hasattr(type(value), "__get__") else value
                for name, value in options.items()
            }
            made = type(
                base.__name__,
                (base,),
                {**attributes, "factory_options": options, "__module__": base.__module__},
            )
        return made

    def server_limits(self) -> dict:
        """What the server (a RealtimeServer) sets for its protocols; a
        server without them (a test's) leaves the class defaults."""
        server = self.server_class
        names = ("max_client_message_bytes", "max_queued_bytes", "websocket_lifetime")
        limits = {name: getattr(server, name) for name in names if hasattr(server, name)}
        if hasattr(server, "fast_path"):
            limits["direct_writes"] = server.fast_path
        return limits
