"""What Daphne keeps for each open WebSocket, made smaller.

Measured with 3,000 idle engagement sockets (docs/PERFORMANCE.md), two of
Daphne's per-connection costs are not needed once a WebSocket is open:

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
"""

import asyncio
from functools import partial

from .inbox import Inbox


def install_lean_connections() -> None:
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol
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

    opened = WebSocketProtocol.onOpen

    def onOpen(self):
        transport = self.transport
        if isinstance(getattr(transport, "producer", None), HTTPChannel):
            transport.unregisterProducer()
        return opened(self)

    create_application.lean = True
    Server.create_application = create_application
    WebSocketProtocol.onOpen = onOpen
