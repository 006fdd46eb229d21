"""A WebSocket lives no longer than the credential it was opened with
(PROTOCOL.md, "Credentials end their sockets"): signing out, a password
change, a deactivated or deleted account and a replaced API token close the
sockets opened with that credential with 4401 within 5 seconds, in every
server process, and leave every other socket open."""

import http.cookiejar
import json
from contextlib import AsyncExitStack

import pytest

from .helpers import (
    PASSWORD,
    assert_notification,
    expect_close,
    http_request,
    ping,
    recv_data,
)

pytestmark = pytest.mark.asyncio

NEW_PASSWORD = "e2e-Changed-Password-2027?"


# --- A browser: a session cookie and the page's CSRF token --------------------


def browser_sign_in(server, account, cookies=None) -> http.cookiejar.CookieJar:
    """A browser signed in as `account` as the dashboard signs in (a session
    of its own unless `cookies` is an existing browser's); its cookies."""
    cookies = http.cookiejar.CookieJar() if cookies is None else cookies
    server.browser_sign_in(account, cookies)
    assert "sessionid" in cookie_values(cookies)
    return cookies


def browser_sign_out(server, cookies) -> None:
    status, answer = server.api("POST", "/api/auth/logout/", cookies=cookies, headers=csrf_header(cookies))
    assert status == 204, (status, answer)


def cookie_values(cookies) -> dict:
    return {cookie.name: cookie.value for cookie in cookies}


def csrf_header(cookies) -> dict:
    # Django rotates the token at sign-in: read it for every request, as the page does.
    return {"X-CSRFToken": cookie_values(cookies)["csrftoken"]}


def session_of(cookies) -> dict:
    """The handshake headers of a WebSocket opened by that browser."""
    return {"Cookie": f"sessionid={cookie_values(cookies)['sessionid']}"}


def inbox_of(account) -> str:
    return f"/ws/notifications/{account.user_id}"


def ws_ticket(server, account) -> str:
    status, answer = server.api("POST", "/api/auth/ws-ticket/", account.token)
    assert status == 201, answer
    return answer["ticket"]


async def opened(stack, server, path, token=None, **options):
    """A socket that has joined its groups (it answered a ping)."""
    ws = await stack.enter_async_context(server.connect(path, token, **options))
    if path == "/ws/trending":
        await recv_data(ws, "trending")
    await ping(ws)
    return ws


async def still_open(*sockets) -> None:
    # Twice: a close that was already queued would come before the second pong.
    for ws in sockets:
        await ping(ws)
        await ping(ws)


# --- Signing out ---------------------------------------------------------------


async def test_signing_out_closes_the_sockets_of_that_session_only(live_server):
    user, other = live_server.register(), live_server.register()
    leaving, staying = browser_sign_in(live_server, user), browser_sign_in(live_server, user)
    inbox = inbox_of(user)
    async with AsyncExitStack() as stack:
        signed_out = [
            await opened(stack, live_server, inbox, headers=session_of(leaving)),
            await opened(stack, live_server, f"/ws/feed/{user.user_id}", headers=session_of(leaving)),
            # A public stream too: the socket is signed in, whatever it watches.
            await opened(stack, live_server, "/ws/trending", headers=session_of(leaving)),
        ]
        other_session = await opened(stack, live_server, inbox, headers=session_of(staying))
        by_token = await opened(stack, live_server, inbox, user.token)
        other_user = await opened(stack, live_server, inbox_of(other), other.token)

        browser_sign_out(live_server, leaving)

        for ws in signed_out:
            await expect_close(ws, 4401)
        await still_open(other_session, by_token, other_user)
        # ... and they still hear what happens.
        live_server.follow(other, user)
        for ws in (other_session, by_token):
            data = await recv_data(ws, "notification")
            assert_notification(data, kind="FOLLOW", actor=other, tweet=None)


async def test_signing_in_as_someone_else_closes_the_sockets_of_the_replaced_session(live_server):
    first, second = live_server.register(), live_server.register()
    browser = browser_sign_in(live_server, first)
    async with AsyncExitStack() as stack:
        replaced = await opened(stack, live_server, inbox_of(first), headers=session_of(browser))
        by_token = await opened(stack, live_server, inbox_of(first), first.token)

        browser_sign_in(live_server, second, browser)

        await expect_close(replaced, 4401)
        await still_open(by_token)


# --- The password ---------------------------------------------------------------


async def test_changing_the_password_closes_every_socket_of_the_user_and_replaces_the_token(
    live_server,
):
    user, other = live_server.register(), live_server.register()
    browser = browser_sign_in(live_server, user)
    inbox = inbox_of(user)
    async with AsyncExitStack() as stack:
        closed = [
            await opened(stack, live_server, inbox, user.token),
            await opened(stack, live_server, inbox, headers=session_of(browser)),
            await opened(stack, live_server, inbox, query={"ticket": ws_ticket(live_server, user)}),
        ]
        other_user = await opened(stack, live_server, inbox_of(other), other.token)

        status, answer = live_server.api(
            "POST",
            "/api/auth/password/",
            user.token,
            {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert status == 200, answer
        assert set(answer) == {"user_id", "username", "display_name", "token"}
        assert answer["user_id"] == user.user_id and answer["token"] != user.token

        for ws in closed:
            await expect_close(ws, 4401)
        await still_open(other_user)

    assert live_server.api("GET", "/api/auth/me/", user.token)[0] == 401
    assert live_server.api("GET", "/api/auth/me/", answer["token"])[0] == 200
    async with live_server.connect(inbox, user.token) as ws:
        await expect_close(ws, 4401)
    async with live_server.connect(inbox, answer["token"]) as ws:
        await ping(ws)


async def test_a_wrong_old_password_changes_nothing(live_server):
    user = live_server.register()
    async with live_server.connect(inbox_of(user), user.token) as ws:
        await ping(ws)
        status, answer = live_server.api(
            "POST",
            "/api/auth/password/",
            user.token,
            {"old_password": "not-the-Password-1", "new_password": NEW_PASSWORD},
        )
        assert status == 400 and "old_password" in answer, (status, answer)
        status, answer = live_server.api(
            "POST",
            "/api/auth/password/",
            user.token,
            {"old_password": PASSWORD, "new_password": "123"},
        )
        assert status == 400 and "new_password" in answer, (status, answer)
        await still_open(ws)
    assert live_server.api("GET", "/api/auth/me/", user.token)[0] == 200


async def test_the_session_that_changes_the_password_stays_signed_in(live_server):
    user = live_server.register()
    browser = browser_sign_in(live_server, user)
    status, answer = live_server.api(
        "POST",
        "/api/auth/password/",
        body={"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        cookies=browser,
        headers=csrf_header(browser),
    )
    assert status == 200, answer
    status, me = live_server.api("GET", "/api/auth/me/", cookies=browser)
    assert status == 200 and me["user_id"] == user.user_id, (status, me)
    async with live_server.connect(inbox_of(user), headers=session_of(browser)) as ws:
        await ping(ws)


# --- The API token ------------------------------------------------------------------


async def test_rotating_the_token_closes_the_sockets_of_the_old_token_only(live_server):
    user, other = live_server.register(), live_server.register()
    browser = browser_sign_in(live_server, user)
    inbox = inbox_of(user)
    async with AsyncExitStack() as stack:
        old_token = await opened(stack, live_server, inbox, user.token)
        old_token_trending = await opened(stack, live_server, "/ws/trending", user.token)
        by_session = await opened(stack, live_server, inbox, headers=session_of(browser))
        other_user = await opened(stack, live_server, inbox_of(other), other.token)

        status, answer = live_server.api("POST", "/api/auth/token/rotate/", user.token)
        assert status == 200, answer
        # The token endpoint's answer, with the new token.
        assert set(answer) == {"user_id", "username", "display_name", "token"}
        assert (answer["user_id"], answer["username"]) == (user.user_id, user.username)
        assert answer["token"] != user.token

        await expect_close(old_token, 4401)
        await expect_close(old_token_trending, 4401)
        await still_open(by_session, other_user)
        live_server.follow(other, user)
        assert_notification(
            await recv_data(by_session, "notification"), kind="FOLLOW", actor=other, tweet=None
        )

    assert live_server.api("GET", "/api/auth/me/", user.token)[0] == 401
    assert live_server.api("GET", "/api/auth/me/", answer["token"])[0] == 200
    status, issued = live_server.api(
        "POST", "/api/auth/token/", body={"username": user.username, "password": PASSWORD}
    )
    assert status == 200 and issued["token"] == answer["token"], (status, issued)


async def test_token_rotation_needs_a_credential(live_server):
    assert live_server.api("POST", "/api/auth/token/rotate/")[0] == 401


async def test_token_rotation_and_password_change_are_in_the_api_schema(live_server):
    status, _, body = http_request(live_server.http_url + "/api/schema/?format=json")
    assert status == 200
    schema = json.loads(body)
    assert "post" in schema["paths"]["/api/auth/token/rotate/"]
    assert "post" in schema["paths"]["/api/auth/password/"]


# --- Across processes: sign-out, password, and an operator's changes ------------


async def test_signing_out_through_one_process_closes_the_socket_on_another(
    live_server_redis, second_server_redis
):
    user = live_server_redis.register()
    browser = browser_sign_in(live_server_redis, user)
    inbox = inbox_of(user)
    async with AsyncExitStack() as stack:
        signed_out = await opened(stack, second_server_redis, inbox, headers=session_of(browser))
        by_token = await opened(stack, second_server_redis, inbox, user.token)

        browser_sign_out(live_server_redis, browser)

        await expect_close(signed_out, 4401)
        await still_open(by_token)


async def test_changing_the_password_through_one_process_closes_the_sockets_on_another(
    live_server_redis, second_server_redis
):
    user, other = live_server_redis.register(), live_server_redis.register()
    inbox = inbox_of(user)
    async with AsyncExitStack() as stack:
        here = await opened(stack, live_server_redis, inbox, user.token)
        there = await opened(stack, second_server_redis, inbox, user.token)
        other_user = await opened(stack, second_server_redis, inbox_of(other), other.token)

        status, answer = live_server_redis.api(
            "POST",
            "/api/auth/password/",
            user.token,
            {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert status == 200, answer

        await expect_close(here, 4401)
        await expect_close(there, 4401)
        await still_open(other_user)
    assert second_server_redis.api("GET", "/api/auth/me/", user.token)[0] == 401


OPERATOR_CHANGES = {
    "deactivated": "user.is_active = False; user.save()",
    "deleted": "user.delete()",
    # What `manage.py changepassword` and the admin's password form do.
    "password-set": "user.set_password('e2e-Operator-Set-2027!'); user.save()",
}


@pytest.mark.parametrize("change", OPERATOR_CHANGES, ids=list(OPERATOR_CHANGES))
async def test_an_operators_change_to_an_account_closes_its_sockets_on_every_process(
    live_server_redis, second_server_redis, change
):
    user, other = live_server_redis.register(), live_server_redis.register()
    browser = browser_sign_in(live_server_redis, user)
    inbox = inbox_of(user)
    async with AsyncExitStack() as stack:
        closed = [
            await opened(stack, live_server_redis, inbox, user.token),
            await opened(stack, second_server_redis, inbox, headers=session_of(browser)),
            await opened(stack, second_server_redis, "/ws/trending", user.token),
        ]
        other_user = await opened(stack, second_server_redis, inbox_of(other), other.token)

        result = live_server_redis.manage(
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; "
            f"user = get_user_model().objects.get(pk={user.user_id}); {OPERATOR_CHANGES[change]}",
        )
        assert result.returncode == 0, result.stderr

        for ws in closed:
            await expect_close(ws, 4401)
        await still_open(other_user)
    assert live_server_redis.api("GET", "/api/auth/me/", user.token)[0] == 401
