"""Who is on the other end of a WebSocket (the Origin check is origin.py's)."""

from importlib import import_module
from urllib.parse import parse_qs

from channels.auth import get_user
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie

from .. import credentials
from ..stream_database import database_sync_to_async


def query_param(scope, name: str) -> str | None:
    """Return the first value of query-string parameter `name`, if any."""
    values = parse_qs(scope.get("query_string", b"").decode("latin1")).get(name)
    return values[0] if values else None


def header(scope, name: bytes) -> str | None:
    """Return the first value of request header `name` (lower case), if any."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin1")
    return None


# What a handshake authenticated with: (user, credential fingerprint). A
# ticket's is None: it is spent on the handshake, and its socket belongs to
# the user (closed when all of the user's credentials end).
NOBODY = (AnonymousUser(), None)


@database_sync_to_async
def user_for_ticket(key: str):
    from ..tickets import ticket_redeem

    user = ticket_redeem(key=key[:64])
    return (user, None) if user is not None else NOBODY


@database_sync_to_async
def user_for_token(key: str):
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return NOBODY
    return token.user, credentials.token_credential(token.key)


async def user_for_session(session_key: str):
    # Channels' own session-to-user lookup (it verifies the session's auth
    # hash, as Django does), given the session it would find in the scope.
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = await get_user({"session": session})
    if not user.is_authenticated:
        return NOBODY
    # get_user has loaded the session: this reads its cache, not the database.
    return user, credentials.session_credential(session)


async def identify(scope):
    """Who a WebSocket handshake speaks for and with which credential:
    (user or AnonymousUser, fingerprint or None).

    `?ticket=` (single-use), then `?token=` (API token), then the session
    cookie (browsers). A ticket or token overrides the cookie; a wrong one
    leaves the connection anonymous, so the consumer answers 4401.
    """
    ticket = query_param(scope, "ticket")
    if ticket is not None:
        return await user_for_ticket(ticket)
    token = query_param(scope, "token")
    if token is not None:
        return await user_for_token(token[:64])
    cookies = header(scope, b"cookie")
    session_key = parse_cookie(cookies).get(settings.SESSION_COOKIE_NAME) if cookies else None
    if session_key:
        return await user_for_session(session_key)
    return NOBODY


async def authenticate(scope):
    """The user a WebSocket handshake speaks for, or AnonymousUser (see identify)."""
    return (await identify(scope))[0]


class StreamAuthMiddleware:
    """Put the connecting user in `scope["user"]`, and the fingerprint of the
    credential it connected with in `scope["credential"]` (see identify).

    One step instead of Channels' stack of four (cookies, session, session
    wrapper, auth) plus ours for tokens: each of those copied the scope and
    stayed on the call stack for the life of the connection, 3.5 KB of
    every idle WebSocket (docs/PERFORMANCE.md). The streams need the user
    only, not a session object: they never write to the session.
    """

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        user, credential = await identify(scope)
        return await self.inner(dict(scope, user=user, credential=credential), receive, send)
