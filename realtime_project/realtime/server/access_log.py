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

from daphne.access import AccessLogGenerator
from twisted.internet.address import IPv4Address, IPv6Address

from ..middleware.client_address import resolve_client
from ..ops.log_redaction import redact


def request_client(request) -> tuple[str, int] | None:
    """(host, port) of the client of a Daphne (Twisted) HTTP request: its
    TCP peer, or the client a trusted proxy names (resolve_client), with
    port 0 as in the ASGI scope (ClientAddressMiddleware)."""
    peer = request.getClientAddress()
    if not hasattr(peer, "host"):
        return None
    # The first header, as ClientAddressMiddleware reads it from the scope.
    forwarded = request.requestHeaders.getRawHeaders(b"x-forwarded-for")
    if forwarded:
        client = resolve_client(peer.host, forwarded[0].decode("latin1"))
        if client != peer.host:
            return client, 0
    return peer.host, peer.port


def forwarded_client_request(request_class):
    """A subclass of Daphne's request class whose client (what Daphne puts
    in its access log line and scope) is `request_client`'s."""

    class ForwardedClientRequest(request_class):
        def process(self):
            client = request_client(self)
            if client is not None and client[0] != self.client.host:
                kind = IPv6Address if ":" in client[0] else IPv4Address
                self.client = kind("TCP", *client)
            return super().process()

    return ForwardedClientRequest


class RedactingAccessLog(AccessLogGenerator):
    """Daphne's access log with paths written without their query strings
    or any credential. (HTTP requests name their client by `request_client`
    through the request class http.py gives the channels.)"""

    def __call__(self, protocol, action, details):
        path = details.get("path")
        if isinstance(path, str):
            details = dict(details, path=redact(path.split("?", 1)[0]))
        return super().__call__(protocol, action, details)
