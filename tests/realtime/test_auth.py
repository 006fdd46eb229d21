"""Who a WebSocket handshake speaks for (realtime/auth.py): ticket, token or
session cookie, and nobody when what it carries does not check out."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from rest_framework.authtoken.models import Token

from realtime_project.realtime.auth import authenticate

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def handshake(query: str = "", cookie: str | None = None) -> dict:
    headers = [(b"host", b"testserver")]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode("latin1")))
    return {"type": "websocket", "query_string": query.encode(), "headers": headers}


@database_sync_to_async
def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"theme=dark; sessionid={client.cookies['sessionid'].value}"


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
