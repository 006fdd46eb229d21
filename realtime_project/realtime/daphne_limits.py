"""Limits that only Daphne's WebSocket protocol can enforce.

Inbound: a message larger than REALTIME_MAX_MESSAGE_BYTES is refused by
autobahn (under Daphne) with close code 1009 as soon as its frame header
announces the size, before it is buffered; the application could only see
it whole, and autobahn would not let it close with 1009 anyway (it accepts
1000 and 3000-4999 from applications).

Outbound: Daphne hands every outgoing frame to Twisted at once, and Twisted buffers
without limit while the client's TCP window is closed: one stalled tab could
grow the server's memory without bound. ASGI gives the application no view
of that buffer, so the check has to sit in Daphne's WebSocket protocol: once
more than REALTIME_MAX_QUEUED_BYTES wait for a client, its frames are
dropped and the connection is closed with 4429. Nothing is lost for good:
notifications and feed items are rows, and the client resumes with `?since=`.
(Centrifugo's default client queue is 1 MB; so is ours.)
"""

import logging

from .metrics import CLIENTS_DROPPED

logger = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 4429


def queued_bytes(transport) -> int:
    """Bytes a Twisted TCP transport holds that the kernel has not taken yet."""
    buffer = getattr(transport, "dataBuffer", b"")
    return len(buffer) - getattr(transport, "offset", 0) + getattr(transport, "_tempDataLen", 0)


_max_queued_bytes = 1 << 20


def may_send(protocol) -> bool:
    """Whether a frame may be written to `protocol` now; closes a slow reader."""
    if protocol.state in (protocol.STATE_CLOSING, protocol.STATE_CLOSED):
        # Closed for slowness (or by the client) while the application
        # still had messages for it: autobahn would raise, crashing the
        # consumer; the client resumes with ?since= instead.
        return False
    if protocol.state != protocol.STATE_OPEN:
        return True
    queued = queued_bytes(protocol.transport)
    if queued > _max_queued_bytes:
        logger.warning("closing a WebSocket whose client is not reading (%d bytes queued)", queued)
        CLIENTS_DROPPED.labels(reason="slow reader").inc()
        protocol.sendClose(code=CLOSE_TOO_SLOW, reason="too slow: resume with since")
        return False
    return True


def install_daphne_limits(*, max_message_bytes: int, max_queued_bytes: int) -> None:
    """Make Daphne close with 1009 a client whose message passes
    `max_message_bytes`, and with 4429 one whose unsent data passes
    `max_queued_bytes`."""
    from daphne.ws_protocol import WebSocketProtocol

    if getattr(WebSocketProtocol.serverSend, "bounded", False):
        return
    unbounded_send = WebSocketProtocol.serverSend
    unlimited_connect = WebSocketProtocol.onConnect

    def onConnect(self, request):
        # Per connection: Daphne's factory options are set inside Server.run().
        self.maxMessagePayloadSize = max_message_bytes
        self.maxFramePayloadSize = max_message_bytes
        # Send the 1009 close frame rather than just dropping the TCP connection.
        self.failByDrop = False
        return unlimited_connect(self, request)

    global _max_queued_bytes
    _max_queued_bytes = max_queued_bytes

    def serverSend(self, content, binary=False):
        if not may_send(self):
            return
        # Autobahn applies maxMessagePayloadSize to what it sends as well:
        # the limit is for clients, not for a replay of 500 tweets.
        inbound_limit = self.maxMessagePayloadSize
        self.maxMessagePayloadSize = 0
        try:
            unbounded_send(self, content, binary)
        finally:
            self.maxMessagePayloadSize = inbound_limit

    serverSend.bounded = True
    WebSocketProtocol.serverSend = serverSend
    WebSocketProtocol.onConnect = onConnect
