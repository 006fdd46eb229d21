"""Daphne's access log, without credentials, naming the real client.

A WebSocket URL may carry `?token=` or `?ticket=`; Daphne logs WebSocket
paths without their query string, but a plain HTTP request to such a URL
(a crawler, a misconfigured client) is logged with it. No credential may
reach a log file, so the query string is left out of every line, and what
is left of the path is redacted as log lines are (a client that encoded
its `?` still has its token in the path).

Daphne runs without --proxy-headers (its reading of X-Forwarded-For lets
any client choose its address), so the address it logs is the TCP peer:
behind nginx, nginx. An HTTP request's line names the client as the rest of
the project sees it instead (client_address.resolve_client): the peer,
unless the peer is a trusted proxy, and never what a client wrote itself.
"""

from .client_address import resolve_client
from .log_redaction import redact

# The request whose reply Daphne is writing: its access log line is
# written from within (WebRequest.handle_reply), with only the TCP peer.
_replying = None


def request_client(request) -> str | None:
    """`host:port` of the client of a Daphne (Twisted) HTTP request, as
    the access log names it; the port is 0 for an address a proxy forwarded,
    as in the ASGI scope (ClientAddressMiddleware)."""
    peer = request.client_addr
    if not peer:
        address = request.getClientAddress()
        if not hasattr(address, "host"):
            return None
        peer = [address.host, address.port]
    host, port = str(peer[0]), peer[1]
    # The first header, as ClientAddressMiddleware reads it from the scope.
    forwarded = request.requestHeaders.getRawHeaders(b"x-forwarded-for")
    if forwarded:
        client = resolve_client(host, forwarded[0].decode("latin1"))
        if client != host:
            host, port = client, 0
    return f"{host}:{port}"


def install_query_free_access_log() -> None:
    """Make Daphne's access log write paths without their query strings or
    any credential, and name the client of an HTTP request by
    `request_client`."""
    from daphne.access import AccessLogGenerator
    from daphne.http_protocol import WebRequest

    if getattr(AccessLogGenerator.__call__, "query_free", False):
        return
    write_with_query = AccessLogGenerator.__call__
    reply = WebRequest.handle_reply

    def handle_reply(self, message):
        global _replying
        _replying = self
        try:
            return reply(self, message)
        finally:
            _replying = None

    def __call__(self, protocol, action, details):
        path = details.get("path")
        if isinstance(path, str):
            details = dict(details, path=redact(path.split("?", 1)[0]))
        if protocol == "http" and _replying is not None:
            details = dict(details, client=request_client(_replying))
        return write_with_query(self, protocol, action, details)

    __call__.query_free = True
    AccessLogGenerator.__call__ = __call__
    WebRequest.handle_reply = handle_reply
