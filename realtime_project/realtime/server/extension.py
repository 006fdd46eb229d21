"""The ASGI scope extension through which the server hands a WebSocket
application its socket (RealtimeServer.create_application), for the
one-pass writes of delivery.py. Importing this imports no server."""

SOCKET_EXTENSION = "realtime.socket"


def socket_of(scope):
    """The protocol a consumer's frames may be written to directly, or None
    (under another server, or with the fast path off)."""
    extensions = scope.get("extensions")
    return extensions.get(SOCKET_EXTENSION) if extensions else None
