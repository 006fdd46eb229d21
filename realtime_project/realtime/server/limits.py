"""Limits that only the WebSocket protocol can enforce (websocket.py applies them).

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

HTTP requests have limits of their own (http.py). The protocol that
applies these is websocket.RealtimeWebSocketProtocol.
"""

import logging
import socket

from ..ops.metrics import CLIENTS_DROPPED

logger = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 4429


def queued_bytes(transport) -> int:
    """Bytes a Twisted TCP transport holds that the kernel has not taken yet."""
    buffer = getattr(transport, "dataBuffer", b"")
    return len(buffer) - getattr(transport, "offset", 0) + getattr(transport, "_tempDataLen", 0)


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
    if queued > protocol.max_queued_bytes:
        logger.warning("closing a WebSocket whose client is not reading (%d bytes queued)", queued)
        CLIENTS_DROPPED.labels(reason="slow reader").inc()
        protocol.sendClose(code=CLOSE_TOO_SLOW, reason="too slow: resume with since")
        return False
    return True
