"""Let the application close a WebSocket with 1012 or 1013.

RFC 6455 (and IANA's registry) gives servers 1012 "Service Restart" and
1013 "Try Again Later": the codes that tell a client to come back, which
PROTOCOL.md uses for a draining server and for one out of descriptors.
autobahn's `sendClose`, which Daphne's `serverClose` calls, accepts only
1000 and 3000-4999 from applications and raises on anything else, so the
socket would end with 1011 instead. Its `sendCloseFrame`, which autobahn
itself uses for protocol-level codes, sends them.
"""

SERVICE_CODES = frozenset({1012, 1013})


def install_service_close_codes() -> None:
    """Make Daphne's WebSocket protocol send 1012 and 1013 when asked to."""
    from daphne.ws_protocol import WebSocketProtocol

    if getattr(WebSocketProtocol.serverClose, "service_codes", False):
        return
    stock_close = WebSocketProtocol.serverClose

    def serverClose(self, code=None):
        if code in SERVICE_CODES:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            stock_close(self, code)

    serverClose.service_codes = True
    WebSocketProtocol.serverClose = serverClose
