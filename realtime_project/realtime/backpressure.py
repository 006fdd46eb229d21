"""Bound what Daphne queues for a client that stops reading.

Daphne hands every outgoing frame to Twisted at once, and Twisted buffers
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


def install_daphne_backpressure(max_queued_bytes: int) -> None:
    """Make Daphne close (4429) a WebSocket whose unsent data passes `max_queued_bytes`."""
    from daphne.ws_protocol import WebSocketProtocol

    if getattr(WebSocketProtocol.serverSend, "bounded", False):
        return
    unbounded_send = WebSocketProtocol.serverSend

    def serverSend(self, content, binary=False):
        if self.state == self.STATE_OPEN and queued_bytes(self.transport) > max_queued_bytes:
            logger.warning(
                "closing a WebSocket whose client is not reading (%d bytes queued)",
                queued_bytes(self.transport),
            )
            CLIENTS_DROPPED.labels(reason="slow reader").inc()
            self.sendClose(code=CLOSE_TOO_SLOW, reason="too slow: resume with since")
            return
        unbounded_send(self, content, binary)

    serverSend.bounded = True
    WebSocketProtocol.serverSend = serverSend
