"""Whether a browser page may open a WebSocket here (cross-site hijacking).

A browser sends a page's cookies with a WebSocket handshake to any site,
whatever page opened it; only the `Origin` header says whose page that is.
It must name this site exactly, scheme, host and port, as Django's CSRF
check demands of a form post: an origin this server serves (http or https
as the socket is ws or wss, a host in ALLOWED_HOSTS, the port the handshake
was sent to), or one of CSRF_TRUSTED_ORIGINS. A page on another port or
scheme of an allowed host is another site: comparing host names only let
a page on http://127.0.0.1:9999 read a user's notifications.

A handshake with no `Origin` comes from a non-browser client (browsers
always send one), which cross-site hijacking cannot involve: it is accepted
and authenticates like any other (PROTOCOL.md).
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin1")
    return None


def allowed_hosts() -> list[str]:
    hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not hosts:
        # Django's own fallback while debugging.
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def _normalised(origin: str) -> str:
    # Scheme and host are case-insensitive; a default port may be spelled or not.
    parts = urlsplit(origin.strip().lower())
    netloc = parts.netloc
    default_port = {"http": ":80", "https": ":443"}.get(parts.scheme)
    if default_port and netloc.endswith(default_port):
        netloc = netloc[: -len(default_port)]
    return f"{parts.scheme}://{netloc}"


def _port(netloc_port: str, scheme: str) -> str:
    return netloc_port or {"http": "80", "https": "443"}.get(scheme, "")


def is_served_origin(origin: str, scope) -> bool:
    """Whether `origin` is one this server serves the handshake's page from:
    the socket's scheme (http for ws, https for wss), a host in
    ALLOWED_HOSTS, and the port the handshake was sent to."""
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    parts = urlsplit(origin)
    if parts.scheme != scheme or parts.path or parts.query:
        return False
    domain, port = split_domain_port(parts.netloc)
    if not domain or not validate_host(domain, allowed_hosts()):
        return False
    _host_domain, host_port = split_domain_port((_header(scope, b"host") or "").strip().lower())
    return _port(port, scheme) == _port(host_port, scheme)


def origin_allowed(scope) -> bool:
    """Whether the handshake's Origin may open a WebSocket (see the module)."""
    origin = _header(scope, b"origin")
    if origin is None:
        return True
    if not origin.lower().startswith(("http://", "https://")):
        # "null" (sandboxed frames, file: pages) and anything else.
        return False
    try:
        wanted = _normalised(origin)
    except ValueError:
        return False
    if is_served_origin(wanted, scope):
        return True
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        if "*" in trusted:
            # Django's form: "https://*.example.com" trusts its subdomains.
            scheme, _, pattern = trusted.lower().partition("://*")
            parts = urlsplit(wanted)
            if parts.scheme == scheme and is_same_domain(parts.netloc, pattern):
                return True
        elif wanted == _normalised(trusted):
            return True
    return False


class OriginValidator:
    """ASGI middleware refusing WebSocket handshakes whose Origin is another
    site's (HTTP 403, as Channels' validator does)."""

    # A plain function handing on the inner coroutine (as ServerLoopMiddleware).
    _asgi_single_callable = True

    def __init__(self, application):
        self.application = application

    def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return WebsocketDenier()(scope, receive, send)
        return self.application(scope, receive, send)
