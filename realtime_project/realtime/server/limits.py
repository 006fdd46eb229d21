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

Twisted's buffer is not all that waits: the kernel's send buffer comes
first, and Linux grows it by itself (up to tcp_wmem's maximum, 4 MiB) for a
fast peer, on loopback or a LAN. All that was queued before Twisted held a
byte, and the 4429 close frame waited behind it: a client had to read
megabytes within autobahn's one-second closing handshake to learn why it
was cut off, and otherwise saw a reset. So when a WebSocket connects, its
socket's send buffer is fixed to a share of REALTIME_MAX_QUEUED_BYTES
(KERNEL_SHARE; Linux doubles the value for its bookkeeping and caps it at
net.core.wmem_max): the close frame then follows the bound plus that share.
The cost is one system call per connection, none per message. A fixed
buffer is no longer autotuned, which caps one socket's throughput at about
(buffer / round trip): still megabytes a second across a continent, for a
stream of small events.

HTTP requests have limits of their own (daphne_http_limits.py), installed
from here too.
"""

import logging
import socket

from .metrics import CLIENTS_DROPPED

logger = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 4429


def queued_bytes(transport) -> int:
    """Bytes a Twisted TCP transport holds that the kernel has not taken yet."""
    buffer = getattr(transport, "dataBuffer", b"")
    return len(buffer) - getattr(transport, "offset", 0) + getattr(transport, "_tempDataLen", 0)


_max_queued_bytes = 1 << 20
# The kernel's send buffer of a WebSocket is this fraction of the bound.
KERNEL_SHARE = 4


def bound_send_buffer(transport, max_queued: int) -> None:
    """Fix the kernel send buffer of `transport`'s socket to a share of
    `max_queued` (see the module's docstring): once per connection."""
    try:
        handle = transport.getHandle()
        handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, max(max_queued // KERNEL_SHARE, 1))
    except (AttributeError, OSError):
        # Not a socket (a test transport), or one that takes no such option.
        pass


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
    `max_queued_bytes` (with the kernel's send buffer bounded to a share of
    it); and bound HTTP requests as settings say (daphne_http_limits)."""
    from daphne.ws_protocol import WebSocketProtocol
    from django.conf import settings

    from .daphne_http_limits import install_http_limits

    install_http_limits(
        header_timeout=settings.REALTIME_HEADER_TIMEOUT_SECONDS,
        max_request_bytes=settings.REALTIME_MAX_REQUEST_BYTES,
    )

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
        bound_send_buffer(self.transport, _max_queued_bytes)
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
