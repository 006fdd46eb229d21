"""Who a WebSocket handshake speaks for (realtime/middleware/auth.py): ticket, token or
session cookie, and nobody when what it carries does not check out."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from rest_framework.authtoken.models import Token

from accounts.websocket import QUERY_CREDENTIALS
from realtime_project.realtime.middleware import auth


async def identify(scope):
    """Who the handshake speaks for, with the credentials the project's ASGI application accepts."""
    return await auth.identify(scope, QUERY_CREDENTIALS)


async def authenticate(scope):
    return (await identify(scope))[0]


pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def handshake(query: str = "", cookie: str | None = None) -> dict:
    headers = [(b"host", b"testserver")]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode("latin1")))
    return {"type": "websocket", "query_string": query.encode(), "headers": headers}


@database_sync_to_async
def session_key(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def session_cookie(user) -> str:
    return f"theme=dark; sessionid={await session_key(user)}"


@database_sync_to_async
def token_of(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


async def test_nothing_presented_is_anonymous():
    assert not (await authenticate(handshake())).is_authenticated


async def test_session_cookie_names_its_user(alice):
    assert (await authenticate(handshake(cookie=await session_cookie(alice)))).pk == alice.pk


async def test_session_of_a_changed_password_names_nobody(alice):
    cookie = await session_cookie(alice)
    alice.set_password("a new secret")
    await database_sync_to_async(alice.save)()
    assert not (await authenticate(handshake(cookie=cookie))).is_authenticated


async def test_unknown_session_names_nobody():
    assert not (await authenticate(handshake(cookie="sessionid=not-a-session"))).is_authenticated


async def test_token_overrides_the_session_cookie(alice, bob):
    scope = handshake(f"token={await token_of(bob)}", cookie=await session_cookie(alice))
    assert (await authenticate(scope)).pk == bob.pk


async def test_wrong_token_names_nobody_even_beside_a_good_cookie(alice):
    scope = handshake("token=wrong", cookie=await session_cookie(alice))
    assert not (await authenticate(scope)).is_authenticated


async def test_token_of_a_deactivated_user_names_nobody(alice):
    token = await token_of(alice)
    alice.is_active = False
    await database_sync_to_async(alice.save)()
    assert not (await authenticate(handshake(f"token={token}"))).is_authenticated


async def test_wrong_ticket_names_nobody_even_beside_a_good_token(alice):
    scope = handshake(f"ticket=wrong&token={await token_of(alice)}")
    assert not (await authenticate(scope)).is_authenticated


async def test_a_handshake_names_its_credential_by_a_fingerprint_never_the_secret(alice):
    # The fingerprint travels through Redis to every server process.
    token = await token_of(alice)
    user, by_token = await identify(handshake(f"token={token}"))
    assert user.pk == alice.pk and by_token and token not in by_token
    first, second = await session_key(alice), await session_key(alice)
    _, by_first = await identify(handshake(cookie=f"sessionid={first}"))
    _, by_second = await identify(handshake(cookie=f"sessionid={second}"))
    assert len({by_token, by_first, by_second}) == 3
    assert first not in by_first and second not in by_second


@pytest.mark.parametrize("query", ["", "token=wrong", "ticket=wrong"])
async def test_an_anonymous_handshake_has_no_credential(query):
    user, credential = await identify(handshake(query))
    assert not user.is_authenticated and credential is None
