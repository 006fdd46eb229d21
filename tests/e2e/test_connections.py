"""The WebSocket endpoints themselves, against a live server: who may connect
(close codes, authentication, Origin), what the client may send, the
snapshots sent on connect, and the connection counts of /ws/stats."""

import asyncio
import http.cookiejar
import json
import secrets
import time
from contextlib import AsyncExitStack

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from .helpers import (
    MESSAGE_TIMEOUT,
    STATS_FIELDS,
    assert_engagement_update,
    assert_envelope,
    assert_iso_utc,
    assert_trending_is_current,
    expect_close,
    liked_and_bookmarked_tweet,
    ping,
    recv_data,
    recv_json,
    settled_stats,
    typing_data,
    wait_for_stats,
)

pytestmark = pytest.mark.asyncio

USER_STREAMS = ["/ws/notifications/{user_id}", "/ws/feed/{user_id}"]


async def open_stream(server, path_template, account=None, tweet=None, **connect_kwargs):
    """Connect to an endpoint and consume its snapshot, if it sends one."""
    path = path_template.format(
        user_id=account.user_id if account else "", tweet_id=tweet["tweet_id"] if tweet else ""
    )
    ws = await server.connect(path, **connect_kwargs)
    try:
        if path.startswith("/ws/trending"):
            await recv_data(ws, "trending")
        elif path.startswith("/ws/engagement/"):
            await recv_data(ws, "engagement_update")
    except BaseException:
        await ws.close()
        raise
    return ws


@pytest.fixture(scope="module")
def owner(live_server):
    return live_server.register("Owner Person")


@pytest.fixture(scope="module")
def owner_tweet(live_server, owner):
    return live_server.post_tweet(owner, "a tweet to watch")


ENDPOINTS = ["notifications", "feed", "trending", "engagement"]


@pytest.fixture(scope="module")
def endpoints(owner, owner_tweet):
    """(path, token) of a connection that each endpoint accepts."""
    return {
        "notifications": (f"/ws/notifications/{owner.user_id}", owner.token),
        "feed": (f"/ws/feed/{owner.user_id}", owner.token),
        "trending": ("/ws/trending", None),
        "engagement": (f"/ws/engagement/{owner_tweet['tweet_id']}", None),
    }


# --- Close codes --------------------------------------------------------------


@pytest.mark.parametrize("template", USER_STREAMS)
async def test_anonymous_user_stream_closes_with_4401(live_server, owner, template):
    async with live_server.connect(template.format(user_id=owner.user_id)) as ws:
        await expect_close(ws, 4401)


@pytest.mark.parametrize("template", USER_STREAMS)
async def test_wrong_token_closes_with_4401(live_server, owner, template):
    path = template.format(user_id=owner.user_id)
    async with live_server.connect(path, token="not-a-real-token") as ws:
        await expect_close(ws, 4401)


@pytest.mark.parametrize("template", USER_STREAMS)
async def test_another_users_stream_closes_with_4403(live_server, owner, template):
    intruder = live_server.register()
    async with live_server.connect(template.format(user_id=owner.user_id), intruder.token) as ws:
        await expect_close(ws, 4403)


@pytest.mark.parametrize("tweet_id", ["987654321", "abc", "99999999999999999999", "-1"])
async def test_unknown_tweet_closes_with_4404(live_server, tweet_id):
    async with live_server.connect(f"/ws/engagement/{tweet_id}") as ws:
        await expect_close(ws, 4404)


@pytest.mark.parametrize("path", ["/ws/nope", "/ws/notifications/", "/ws/trending/extra", "/ws/multiplex"])
async def test_unknown_stream_path_closes_with_4404(live_server, path):
    async with live_server.connect(path) as ws:
        await expect_close(ws, 4404)


# --- Client to server -----------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("ping_text", ["ping", '{"type": "ping"}'], ids=["plain", "json"])
async def test_ping_is_answered_with_pong_on_every_endpoint(live_server, endpoints, endpoint, ping_text):
    path, token = endpoints[endpoint]
    async with await open_stream(live_server, path, token=token) as ws:
        await ws.send(ping_text)
        pong = await recv_json(ws)
    assert pong["type"] == "pong", pong
    assert_iso_utc(pong["timestamp"])
    assert set(pong) <= {"type", "timestamp", "data"}, pong


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "frame",
    [
        "{not json",
        "[1, 2]",
        '"ping"',
        "42",
        "null",
        '{"no_type": true}',
        '{"type": 7}',
        '{"type": "dance"}',
        b"\x00\x01binary",
    ],
    ids=[
        "bad-json",
        "array",
        "string",
        "number",
        "null",
        "no-type",
        "type-not-string",
        "unknown-type",
        "binary",
    ],
)
async def test_bad_input_gets_error_frame_and_connection_stays_open(live_server, endpoints, endpoint, frame):
    path, token = endpoints[endpoint]
    async with await open_stream(live_server, path, token=token) as ws:
        await ws.send(frame)
        error = assert_envelope(await recv_json(ws), "error")
        assert set(error) == {"code", "message"}, error
        assert isinstance(error["code"], str) and error["code"], error
        assert isinstance(error["message"], str) and error["message"], error
        await ping(ws)


async def test_anonymous_typing_gets_error_frame(live_server, owner_tweet):
    async with await open_stream(live_server, f"/ws/engagement/{owner_tweet['tweet_id']}") as ws:
        await ws.send(json.dumps({"type": "typing", "is_typing": True}))
        error = assert_envelope(await recv_json(ws), "error")
        assert error["code"], error
        await ping(ws)


async def test_typing_with_a_non_boolean_gets_error_frame(live_server, owner, owner_tweet):
    path = f"/ws/engagement/{owner_tweet['tweet_id']}"
    async with await open_stream(live_server, path, token=owner.token) as ws:
        await ws.send(json.dumps({"type": "typing", "is_typing": "yes"}))
        assert assert_envelope(await recv_json(ws), "error")["code"]
        await ping(ws)


async def test_typing_reaches_other_watchers_but_not_the_sender(live_server, owner_tweet):
    typist, reader = live_server.register("Tina Typist"), live_server.register()
    path = f"/ws/engagement/{owner_tweet['tweet_id']}"
    async with (
        await open_stream(live_server, path, token=typist.token) as sender,
        await open_stream(live_server, path) as anonymous,
        await open_stream(live_server, path, token=reader.token) as signed_in,
    ):
        await sender.send(json.dumps({"type": "typing", "is_typing": True}))
        for watcher in (anonymous, signed_in):
            assert await recv_data(watcher, "typing") == typing_data(owner_tweet, typist, True)
        await ping(sender)  # the pong comes first: no echo of its own typing

        await sender.send(json.dumps({"type": "typing", "is_typing": False}))
        for watcher in (anonymous, signed_in):
            assert await recv_data(watcher, "typing") == typing_data(owner_tweet, typist, False)
        await ping(sender)


async def test_quiet_typist_is_reported_stopped_after_the_timeout(live_server, owner_tweet):
    """The fixture sets REALTIME_TYPING_TIMEOUT_SECONDS=1."""
    typist = live_server.register()
    path = f"/ws/engagement/{owner_tweet['tweet_id']}"
    async with (
        await open_stream(live_server, path, token=typist.token) as sender,
        await open_stream(live_server, path) as watcher,
    ):
        await sender.send(json.dumps({"type": "typing", "is_typing": True}))
        assert (await recv_data(watcher, "typing"))["is_typing"] is True
        await asyncio.sleep(0.5)
        # Still typing: the expiry restarts, and watchers hear nothing new.
        refreshed = time.monotonic()
        await sender.send(json.dumps({"type": "typing", "is_typing": True}))
        assert await recv_data(watcher, "typing") == typing_data(owner_tweet, typist, False)
        quiet_for = time.monotonic() - refreshed
        assert 0.8 <= quiet_for < 3, f"reported stopped {quiet_for:.2f} s after the last typing"
        await ping(sender)


async def test_disconnecting_typist_is_reported_stopped(live_server, owner_tweet):
    typist = live_server.register()
    path = f"/ws/engagement/{owner_tweet['tweet_id']}"
    async with await open_stream(live_server, path) as watcher:
        async with await open_stream(live_server, path, token=typist.token) as sender:
            await sender.send(json.dumps({"type": "typing", "is_typing": True}))
            assert (await recv_data(watcher, "typing"))["is_typing"] is True
        closed = time.monotonic()
        assert await recv_data(watcher, "typing") == typing_data(owner_tweet, typist, False)
        # Well before the 1 s expiry would have said so.
        assert time.monotonic() - closed < 0.7


# --- Abuse ------------------------------------------------------------------------


async def test_huge_frame_closes_with_1009(live_server, owner_tweet):
    async with await open_stream(live_server, "/ws/engagement/{tweet_id}", tweet=owner_tweet) as ws:
        # 100 kB, incompressible: far more than any message a client sends,
        # and small enough to be sent whole before the server answers.
        await ws.send(json.dumps({"type": "ping", "padding": secrets.token_hex(50_000)}))
        await expect_close(ws, 1009)


async def test_message_flood_closes_with_4429(live_server, owner_tweet):
    sent = 200
    async with await open_stream(live_server, "/ws/engagement/{tweet_id}", tweet=owner_tweet) as ws:
        try:
            for _ in range(sent):
                await ws.send("ping")
            # Pongs, then perhaps warnings (error frames), then the close.
            for _ in range(sent):
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert message["type"] in ("pong", "error"), message
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4429, closed
        else:
            pytest.fail(f"{sent} pings in a burst did not close the connection with 4429")


async def test_too_many_connections_of_one_user_close_with_4429(live_server):
    user = live_server.register()
    path = f"/ws/notifications/{user.user_id}"
    async with AsyncExitStack() as stack:
        for opened in range(100):
            ws = await stack.enter_async_context(live_server.connect(path, user.token))
            try:
                await ws.send("ping")
                first = await asyncio.wait_for(ws.recv(), MESSAGE_TIMEOUT)
            except ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 4429, closed
                assert opened >= 1, "even the first connection was refused"
                break
            assert json.loads(first)["type"] == "pong"
        else:
            pytest.fail("100 connections of one user were all accepted")
    # The limit is per user: someone else still gets in.
    other = live_server.register()
    async with live_server.connect(f"/ws/notifications/{other.user_id}", other.token) as ws:
        await ping(ws)


# --- Snapshots on connect ---------------------------------------------------------


async def test_trending_sends_snapshot_on_connect(live_server):
    async with live_server.connect("/ws/trending") as ws:
        assert_trending_is_current(live_server, await recv_data(ws, "trending"))
        await ping(ws)  # one snapshot, nothing else


async def test_engagement_sends_current_counts_on_connect(live_server):
    fan, tweet = liked_and_bookmarked_tweet(live_server, "count me")
    live_server.post_tweet(fan, "a reply", reply_to=tweet["tweet_id"])
    async with live_server.connect(f"/ws/engagement/{tweet['tweet_id']}") as ws:
        data = await recv_data(ws, "engagement_update")
        assert_engagement_update(data, tweet, likes=1, bookmarks=1, replies=1)
        await ping(ws)


# --- Authentication ----------------------------------------------------------------


async def test_token_query_parameter_authenticates(live_server):
    user = live_server.register()
    async with live_server.connect(f"/ws/notifications/{user.user_id}", user.token) as ws:
        await ping(ws)


def session_cookie(server, account) -> str:
    cookies = http.cookiejar.CookieJar()
    answer = server.browser_sign_in(account, cookies)
    assert answer["user_id"] == account.user_id
    session = {cookie.name: cookie.value for cookie in cookies}.get("sessionid")
    assert session, f"login set no sessionid cookie: {[c.name for c in cookies]}"
    return session


async def test_session_cookie_authenticates(live_server, owner):
    user = live_server.register()
    headers = {"Cookie": f"sessionid={session_cookie(live_server, user)}"}
    async with live_server.connect(f"/ws/notifications/{user.user_id}", headers=headers) as ws:
        await ping(ws)
    # It is this user, not merely someone: another user's stream is refused.
    async with live_server.connect(f"/ws/feed/{owner.user_id}", headers=headers) as ws:
        await expect_close(ws, 4403)


# --- Origin ------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1.evil.example", "null"])
async def test_foreign_origin_is_refused(live_server, owner, origin):
    path = f"/ws/notifications/{owner.user_id}"
    with pytest.raises(InvalidStatus) as refused:
        async with live_server.connect(path, owner.token, headers={"Origin": origin}):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:9999",  # another port of an allowed host
        "https://127.0.0.1:{port}",  # another scheme
        "http://localhost:9999",
        "http://127.0.0.1",  # port 80
    ],
)
async def test_another_port_or_scheme_of_an_allowed_host_cannot_hijack_a_socket(live_server, origin):
    # A page there reading alice's whole history with her session cookie.
    alice = live_server.register()
    headers = {
        "Origin": origin.format(port=live_server.port),
        "Cookie": f"sessionid={session_cookie(live_server, alice)}",
    }
    path = f"/ws/notifications/{alice.user_id}"
    with pytest.raises(InvalidStatus) as refused:
        async with live_server.connect(path, headers=headers, query={"since": "0"}):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_own_origin_is_accepted(live_server, owner, host):
    origin = f"http://{host}:{live_server.port}"
    path = f"/ws/notifications/{owner.user_id}"
    async with live_server.connect(path, owner.token, headers={"Origin": origin}) as ws:
        await ping(ws)


async def test_missing_origin_is_accepted(live_server, owner):
    async with live_server.connect(f"/ws/notifications/{owner.user_id}", owner.token) as ws:
        assert "Origin" not in ws.request.headers
        await ping(ws)


# --- /ws/stats ---------------------------------------------------------------------


def plus(stats: dict, *, users: int, user_connections: int, global_connections: int) -> dict:
    return {
        "active_users": stats["active_users"] + users,
        "total_user_connections": stats["total_user_connections"] + user_connections,
        "global_connections": stats["global_connections"] + global_connections,
        "total_connections": stats["total_connections"] + user_connections + global_connections,
    }


async def test_stats_shape(live_server):
    for path in ("/ws/stats", "/ws/stats/"):
        status, stats = live_server.api("GET", path)
        assert status == 200
        assert set(stats) == STATS_FIELDS
        assert all(type(value) is int and value >= 0 for value in stats.values()), stats
        assert stats["total_connections"] == (stats["total_user_connections"] + stats["global_connections"])


async def test_stats_count_connections_while_open(live_server, owner_tweet):
    alice, bob = live_server.register(), live_server.register()
    baseline = await settled_stats(live_server)
    async with (
        await open_stream(live_server, "/ws/notifications/{user_id}", alice, token=alice.token),
        await open_stream(live_server, "/ws/feed/{user_id}", alice, token=alice.token),
        await open_stream(live_server, "/ws/notifications/{user_id}", bob, token=bob.token),
        await open_stream(live_server, "/ws/trending"),
        await open_stream(live_server, "/ws/engagement/{tweet_id}", tweet=owner_tweet),
    ):
        expected = plus(baseline, users=2, user_connections=3, global_connections=2)
        await wait_for_stats(live_server, expected)
    await wait_for_stats(live_server, baseline)


async def test_stats_ignore_refused_connections(live_server, owner):
    baseline = await settled_stats(live_server)
    async with live_server.connect(f"/ws/notifications/{owner.user_id}") as ws:
        await expect_close(ws, 4401)
    async with live_server.connect("/ws/engagement/abc") as ws:
        await expect_close(ws, 4404)
    # A third connection, counted, shows the refused ones were not.
    async with await open_stream(live_server, "/ws/trending"):
        await wait_for_stats(live_server, plus(baseline, users=0, user_connections=0, global_connections=1))
    await wait_for_stats(live_server, baseline)
