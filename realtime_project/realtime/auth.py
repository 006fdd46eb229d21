"""Who is on the other end of a WebSocket, and whether their page may connect."""

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser


def query_param(scope, name: str) -> str | None:
    """Return the first value of query-string parameter `name`, if any."""
    values = parse_qs(scope.get("query_string", b"").decode("latin1")).get(name)
    return values[0] if values else None


@database_sync_to_async
def user_for_ticket(key: str):
    from .tickets import ticket_redeem

    return ticket_redeem(key=key[:64]) or AnonymousUser()


@database_sync_to_async
def user_for_token(key: str):
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    """Authenticate with `?ticket=<single-use ticket>` or `?token=<API token>`.

    Either overrides the session cookie; a wrong one leaves the connection
    anonymous, so the consumer answers 4401.
    """

    async def __call__(self, scope, receive, send):
        ticket = query_param(scope, "ticket")
        token = query_param(scope, "token")
        if ticket is not None:
            scope = dict(scope, user=await user_for_ticket(ticket))
        elif token is not None:
            scope = dict(scope, user=await user_for_token(token[:64]))
        return await super().__call__(scope, receive, send)


def SessionOrTokenAuthMiddlewareStack(inner):
    """Session cookie (browsers), `?ticket=` or `?token=` (other clients)."""
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


class BrowserOriginValidator(OriginValidator):
    """Refuse a handshake whose `Origin` names a host outside the allowed list.

    Unlike Channels' stock validator, a handshake with no `Origin` is
    accepted: browsers always send one, so its absence means a non-browser
    client, which cross-site hijacking cannot involve (PROTOCOL.md).
    """

    def valid_origin(self, parsed_origin):
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


def AllowedHostsOriginValidator(application):
    """Validate `Origin` against `ALLOWED_HOSTS`, read when the app is built."""
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed_hosts)
