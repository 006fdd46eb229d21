"""What Daphne keeps for each open WebSocket, made smaller.

Measured with idle engagement sockets (docs/PERFORMANCE.md, items 7 and
14), what Daphne and autobahn keep per connection that an open WebSocket
does not need:

- Its input queue is an `asyncio.Queue` (3.3 KB even when empty, as it
  nearly always is). `Server.create_application` is the only place that
  makes it, so it is replaced here by Daphne's own (4.2) with an Inbox
  (inbox.py).
- The HTTP request that was upgraded stays registered as the TCP
  transport's producer for the life of the WebSocket, and with it Twisted's
  whole request (headers twice over, body buffer, channel state). The
  WebSocket protocol never uses it: it is unregistered once the WebSocket
  is open. (What it did as a producer, pause reading from a client whose
  unsent data passes Twisted's buffer, the WebSocket protocol does not
  need: daphne_limits.py closes such a client at REALTIME_MAX_QUEUED_BYTES.)
- autobahn copies the factory's 29 options into every protocol's
  `__dict__`, unless the protocol already has them: with those the
  protocol's dict held 108 attributes (3.3 KB; CPython's next size down,
  for up to 85, is half that). Protocols are built from a subclass that
  holds the factory's options as class attributes instead (made again if
  the options change).
- autobahn gives each protocol a `deque` for chopped and synchronous sends
  (760 bytes, empty), which neither Daphne nor this project make: it is
  created when such a send first needs it.
- What only the handshake needed (the raw request and response, parsed
  headers and query parameters, autobahn's ConnectionRequest) stays on the
  protocol for the socket's life: it is dropped when the WebSocket opens.
"""

import asyncio
from collections import deque
from functools import partial

from .inbox import Inbox

# What a protocol's `send_queue` is until something needs to queue a send:
# autobahn only takes its len() and appends to it (see queueing_send_data).
NO_QUEUED_SENDS = ()


def install_lean_connections() -> None:
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
    from twisted.web.http import HTTPChannel

    if getattr(Server.create_application, "lean", False):
        return

    def create_application(self, protocol, scope):
        assert "application_instance" not in self.connections[protocol]
        input_queue = Inbox()
        scope.setdefault("asgi", {"version": "3.0"})
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

    built = WebSocketFactory.buildProtocol

    def buildProtocol(self, addr):
        self.protocol = protocol_with_options(self, type(self).protocol)
        return built(self, addr)

    made = WebSocketProtocol._connectionMade

    def _connectionMade(self):
        made(self)
        self.send_queue = NO_QUEUED_SENDS

    opened = WebSocketProtocol.onOpen

    def onOpen(self):
        transport = self.transport
        if isinstance(getattr(transport, "producer", None), HTTPChannel):
            transport.unregisterProducer()
        result = opened(self)
        forget_handshake(self)
        return result

    create_application.lean = True
    Server.create_application = create_application
    WebSocketFactory.buildProtocol = buildProtocol
    WebSocketProtocol._connectionMade = _connectionMade
    WebSocketProtocol.sendData = queueing_send_data(WebSocketProtocol.sendData)
    WebSocketProtocol.onOpen = onOpen


class OpenedRequest:
    """What Daphne reads of the handshake request once the WebSocket is
    open: its path, for the access log's line when the socket closes."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path


# What autobahn keeps of the handshake, read only while it is processed.
HANDSHAKE_LEFTOVERS = ("http_request_data", "http_response_data", "http_headers", "http_request_params")


def forget_handshake(protocol) -> None:
    """Let an open WebSocket drop what only its handshake needed: the raw
    request and response, the parsed headers and query parameters, and
    autobahn's ConnectionRequest (which holds them again). The scope the
    application got has its own copy of what it needs."""
    request = getattr(protocol, "request", None)
    if request is not None:
        protocol.request = OpenedRequest(request.path)
    for name in HANDSHAKE_LEFTOVERS:
        if hasattr(protocol, name):
            setattr(protocol, name, None)


def protocol_with_options(factory, base):
    """A subclass of protocol class `base` holding `factory`'s autobahn
    options as class attributes, made once per factory (and again when its
    options change), so that no protocol copies them into its own dict."""
    options = {name: getattr(factory, name) for name in base.CONFIG_ATTRS}
    made = factory.__dict__.get("protocol_with_options")
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
        factory.protocol_with_options = made
    return made


def queueing_send_data(send_data):
    """Wrap autobahn's `sendData` so that a chopped or synchronous send,
    the only kind that queues, has the deque it queues into."""

    def sendData(self, data, sync=False, chopsize=None):
        if (sync or chopsize) and self.send_queue is NO_QUEUED_SENDS:
            self.send_queue = deque()
        return send_data(self, data, sync, chopsize)

    return sendData
