"""Who the client is: one answer for rate limits, connection caps and logs.

The client is the TCP peer, unless the peer is one of the reverse proxies
in REALTIME_TRUSTED_PROXIES: then it is the rightmost X-Forwarded-For entry
that is not itself a trusted proxy. Entries left of that were written by
the client (or by proxies we do not know) and are never believed: taking
the leftmost one, as Daphne's --proxy-headers does, lets any client choose
its own address and reset every per-address limit.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def networks_of(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def trusted_networks() -> tuple[Network, ...]:
    """The configured trusted proxies as networks (a bare address is a /32 or /128)."""
    return networks_of(tuple(settings.REALTIME_TRUSTED_PROXIES))


def _address(text: str):
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 peer of a dual-stack socket arrives as ::ffff:a.b.c.d.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def in_networks(address: str, networks: tuple[Network, ...]) -> bool:
    """Whether `address` (text) is in one of `networks`."""
    parsed = _address(address)
    return parsed is not None and any(parsed in network for network in networks)


def resolve_client(peer: str, forwarded_for: str | None, networks=None) -> str:
    """The client's address, from the TCP `peer` and the request's
    X-Forwarded-For header (None if it has none)."""
    networks = networks if networks is not None else trusted_networks()
    if not networks or not forwarded_for or not in_networks(peer, networks):
        return peer
    for entry in reversed(forwarded_for.split(",")):
        address = _address(entry)
        if address is None:
            # Garbage where an address should be: a proxy we trust wrote
            # nothing like it, so stop believing the header here.
            return peer
        if not in_networks(str(address), networks):
            return str(address)
    # Every hop is one of our proxies (a health check from nginx's host).
    return peer


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin1")
    return None


def scope_client(scope) -> str:
    """The client's address of an ASGI scope (after ClientAddressMiddleware)."""
    client = scope.get("client")
    return client[0] if client else ""


class ClientAddressMiddleware:
    """Put the client's address (resolve_client) in `scope["client"]`, and
    a trusted proxy's X-Forwarded-Proto in `scope["scheme"]`, so that Django
    (REMOTE_ADDR, is_secure), the REST throttles, the WebSocket caps and the
    logs all see the same client."""

    # A plain function returning the inner coroutine, as ServerLoopMiddleware:
    # no frame of its own stays alive for each open WebSocket.
    _asgi_single_callable = True

    def __init__(self, application):
        self.application = application

    def __call__(self, scope, receive, send):
        client = scope.get("client")
        networks = trusted_networks()
        if client and networks and in_networks(client[0], networks):
            address = resolve_client(client[0], _header(scope, b"x-forwarded-for"), networks)
            scope = dict(scope, client=(address, client[1] if address == client[0] else 0))
            proto = (_header(scope, b"x-forwarded-proto") or "").strip().lower()
            if proto in ("http", "https"):
                websocket = scope["type"] == "websocket"
                scheme = {"http": "ws", "https": "wss"}[proto] if websocket else proto
                scope["scheme"] = scheme
        return self.application(scope, receive, send)
