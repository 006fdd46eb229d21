"""Who is on the other end of a WebSocket (the Origin check is origin.py's)."""

from collections.abc import Awaitable, Callable, Mapping
from importlib import import_module
from urllib.parse import parse_qs

from channels.auth import get_user
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie

from .. import credentials


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

# A lookup of a credential a client puts in the query string:
# `await lookup(value)` -> (user, fingerprint or None), or NOBODY.
QueryCredential = Callable[[str], Awaitable[tuple]]


async def user_for_session(session_key: str):
    # Channels' own session-to-user lookup (it verifies the session's auth
    # hash, as Django does), given the session it would find in the scope.
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = await get_user({"session": session})
    if not user.is_authenticated:
        return NOBODY
    # get_user has loaded the session: this reads its cache, not the database.
    return user, credentials.session_credential(session)


async def identify(scope, query_credentials: Mapping[str, QueryCredential]):
    """Who a WebSocket handshake speaks for and with which credential:
    (user or AnonymousUser, fingerprint or None).

    The first of `query_credentials` (query-string parameter -> lookup, in
    order) that the handshake carries, then the session cookie (browsers).
    A credential in the query string overrides the cookie; a wrong one
    leaves the connection anonymous, so the consumer answers 4401.
    """
    for name, lookup in query_credentials.items():
        value = query_param(scope, name)
        if value is not None:
            return await lookup(value)
    cookies = header(scope, b"cookie")
    session_key = parse_cookie(cookies).get(settings.SESSION_COOKIE_NAME) if cookies else None
    if session_key:
        return await user_for_session(session_key)
    return NOBODY


class StreamAuthMiddleware:
    """Put the connecting user in `scope["user"]`, and the fingerprint of the
    credential it connected with in `scope["credential"]` (see identify).

    `query_credentials` are the project's own credentials for clients
    without cookies (the accounts app's tickets and API tokens, say): the
    toolkit knows the session only.

    One step instead of Channels' stack of four (cookies, session, session
    wrapper, auth) plus ours for tokens: each of those copied the scope and
    stayed on the call stack for the life of the connection, memory of
    every idle WebSocket (docs/PERFORMANCE.md, item 7). The streams need
    the user only, not a session object: they never write to the session.
    """

    def __init__(self, inner, *, query_credentials: Mapping[str, QueryCredential] | None = None):
        self.inner = inner
        self.query_credentials = dict(query_credentials or {})

    async def __call__(self, scope, receive, send):
        user, credential = await identify(scope, self.query_credentials)
        return await self.inner(dict(scope, user=user, credential=credential), receive, send)
