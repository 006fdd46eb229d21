"""PROTOCOL.md "One connection per tab: `/ws/`", against live Daphne
processes with a real WebSocket client: the welcome, subscribing and its
refusals, every stream's messages under its own name, resume with `since`,
typing, unsubscribing, bad input, /ws/stats, and two processes on Redis."""

import asyncio
import http.cookiejar
import json
import time
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from .conftest import running_server, server_env
from .helpers import (
    MESSAGE_TIMEOUT,
    assert_engagement_update,
    assert_envelope,
    assert_iso_utc,
    assert_notification,
    assert_trending_is_current,
    assert_tweet,
    liked_and_bookmarked_tweet,
    ping,
    plus_stats,
    recv_data,
    recv_json,
    settled_stats,
    tweet_fields,
    typing_data,
    wait_for_stats,
    wait_until,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.e2e]

# settings.py's default, which live_server runs with.
DEFAULT_MAX_SUBSCRIPTIONS = 100
# capped_server's and throttled_server's: small, to reach them in a few messages.
CAP = 3
SUBSCRIBES_BURST = 3
SUBSCRIBES_PER_SECOND = 1
TRENDING = "trending"


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory):
    """A server allowing CAP subscriptions per `/ws/` connection."""
    workdir = tmp_path_factory.mktemp("multiplex_capped")
    env = {**server_env(workdir), "REALTIME_MAX_SUBSCRIPTIONS": str(CAP)}
    with running_server("capped_server", env, workdir / "daphne.log") as server:
        yield server


@pytest.fixture(scope="module")
def throttled_server(tmp_path_factory):
    """A server allowing SUBSCRIBES_BURST subscribes at once, then
    SUBSCRIBES_PER_SECOND."""
    workdir = tmp_path_factory.mktemp("multiplex_throttled")
    env = {
        **server_env(workdir),
        "REALTIME_SUBSCRIBES_BURST": str(SUBSCRIBES_BURST),
        "REALTIME_SUBSCRIBES_PER_SECOND": str(SUBSCRIBES_PER_SECOND),
    }
    with running_server("throttled_server", env, workdir / "daphne.log") as server:
        yield server


# --- Stream names -------------------------------------------------------------


def notifications(account) -> str:
    return f"notifications/{account.user_id}"


def feed(account) -> str:
    return f"feed/{account.user_id}"


def engagement(tweet) -> str:
    return f"engagement/{tweet['tweet_id']}"


# --- Talking to /ws/ -----------------------------------------------------------


@asynccontextmanager
async def tab(server, account=None, *, max_subscriptions=DEFAULT_MAX_SUBSCRIPTIONS, **connect_kwargs):
    """A `/ws/` connection (`?token=` of `account`, or anonymous) whose
    welcome has been checked."""
    token = account.token if account else None
    async with server.connect("/ws/", token, **connect_kwargs) as ws:
        welcome = assert_envelope(await recv_json(ws), "welcome")
        assert welcome == {
            "user_id": account.user_id if account else None,
            "max_subscriptions": max_subscriptions,
        }, welcome
        yield ws


async def send(ws, **fields) -> None:
    await ws.send(json.dumps(fields))


async def recv_text(ws) -> str:
    """The next frame's text, undecoded."""
    try:
        return await asyncio.wait_for(ws.recv(), MESSAGE_TIMEOUT)
    except TimeoutError:
        pytest.fail(f"no message from the server within {MESSAGE_TIMEOUT} s")
    except ConnectionClosed as closed:
        pytest.fail(f"the server closed the connection ({closed.rcvd}) instead of sending")


def control(message: dict, kind: str, stream: str) -> dict:
    """Check a `/ws/` control message (`subscribed`, `subscribe_error`,
    `unsubscribed`, an `error` about a stream) naming `stream`; return its data."""
    assert message.get("type") == kind, f"expected {kind!r} about {stream!r}, got {message}"
    assert set(message) == {"type", "stream", "timestamp", "data"}, message
    assert message["stream"] == stream, message
    assert_iso_utc(message["timestamp"])
    assert isinstance(message["data"], dict), message
    return message["data"]


async def subscribe(ws, stream: str, **fields) -> None:
    """Subscribe to `stream`; the next message must say it is subscribed."""
    await send(ws, type="subscribe", stream=stream, **fields)
    assert control(await recv_json(ws), "subscribed", stream) == {}


async def unsubscribe(ws, stream: str) -> None:
    await send(ws, type="unsubscribe", stream=stream)
    assert control(await recv_json(ws), "unsubscribed", stream) == {}


async def refused(ws, stream: str, code: int) -> None:
    """Subscribing to `stream` is answered with a subscribe_error of `code`."""
    await send(ws, type="subscribe", stream=stream)
    data = control(await recv_json(ws), "subscribe_error", stream)
    assert set(data) == {"code", "message"}, data
    assert data["code"] == code, f"subscribing to {stream!r}: {data}"
    assert isinstance(data["message"], str) and data["message"], data


async def stream_error(ws, stream: str) -> dict:
    """The next message is an `error` carrying `stream`; return its data."""
    data = control(await recv_json(ws), "error", stream)
    assert set(data) == {"code", "message"}, data
    assert isinstance(data["code"], str) and data["code"], data
    return data


async def stream_data(ws, kind: str, stream: str) -> dict:
    """The next message is a well-formed `kind` of `stream`; return its data."""
    message = await recv_json(ws)
    data = assert_envelope(message, kind)
    assert message["stream"] == stream, message
    return data


async def of_streams(ws, count: int) -> dict[str, dict]:
    """The next `count` messages, one each of `count` streams, by stream:
    one action reaches several streams in no particular order."""
    messages = [await recv_json(ws) for _ in range(count)]
    by_stream = {message.get("stream"): message for message in messages}
    assert len(by_stream) == count, messages
    return by_stream


async def watch(ws, tweet, **counts) -> None:
    """Subscribe to `tweet`'s counters and check their snapshot."""
    await subscribe(ws, engagement(tweet))
    data = await stream_data(ws, "engagement_update", engagement(tweet))
    assert_engagement_update(data, tweet, **counts)


async def next_like_count(ws, tweet, likes: int) -> None:
    data = await stream_data(ws, "engagement_update", engagement(tweet))
    assert_engagement_update(data, tweet, likes=likes)


def typing(stream: str, is_typing: bool = True) -> str:
    return json.dumps({"type": "typing", "stream": stream, "is_typing": is_typing})


async def read_into(ws, frames: list) -> None:
    """Append every message `ws` gets, decoded, until it closes."""
    try:
        async for text in ws:
            frames.append(json.loads(text))
    except ConnectionClosed:
        pass


# --- Welcome and handshake ------------------------------------------------------


@pytest.mark.parametrize("path", ["/ws/", "/ws"])
async def test_welcome_names_the_signed_in_user_and_the_subscription_cap(live_server, path):
    user = live_server.register()
    async with live_server.connect(path, user.token) as ws:
        message = await recv_json(ws)
        assert assert_envelope(message, "welcome") == {
            "user_id": user.user_id,
            "max_subscriptions": DEFAULT_MAX_SUBSCRIPTIONS,
        }
        await ping(ws)


async def test_welcome_of_an_anonymous_client_has_no_user(live_server):
    async with live_server.connect("/ws/") as ws:
        welcome = assert_envelope(await recv_json(ws), "welcome")
        assert welcome == {"user_id": None, "max_subscriptions": DEFAULT_MAX_SUBSCRIPTIONS}
        await ping(ws)


async def test_welcome_reports_the_configured_cap(capped_server):
    async with tab(capped_server, max_subscriptions=CAP) as ws:
        await ping(ws)


async def test_session_cookie_authenticates_a_tab(live_server):
    user = live_server.register()
    cookies = http.cookiejar.CookieJar()
    live_server.browser_sign_in(user, cookies)
    session = {cookie.name: cookie.value for cookie in cookies}["sessionid"]
    async with live_server.connect("/ws/", headers={"Cookie": f"sessionid={session}"}) as ws:
        assert assert_envelope(await recv_json(ws), "welcome")["user_id"] == user.user_id
        await subscribe(ws, notifications(user))
        await ping(ws)


async def test_ticket_authenticates_a_tab(live_server):
    user = live_server.register()
    status, body = live_server.api("POST", "/api/auth/ws-ticket/", user.token)
    assert status in (200, 201), (status, body)
    async with live_server.connect("/ws/", query={"ticket": body["ticket"]}) as ws:
        assert assert_envelope(await recv_json(ws), "welcome")["user_id"] == user.user_id
        await subscribe(ws, feed(user))
        await ping(ws)


async def test_a_wrong_token_opens_an_anonymous_tab(live_server):
    owner = live_server.register()
    async with live_server.connect("/ws/", "not-a-real-token") as ws:
        assert assert_envelope(await recv_json(ws), "welcome")["user_id"] is None
        await refused(ws, notifications(owner), 4401)
        await ping(ws)


async def test_a_foreign_origin_cannot_open_a_tab(live_server):
    user = live_server.register()
    with pytest.raises(InvalidStatus) as refusal:
        async with live_server.connect("/ws/", user.token, headers={"Origin": "http://evil.example"}):
            pass
    assert refusal.value.response.status_code == 403


# --- Subscribed, snapshots, live messages ------------------------------------------


async def test_trending_subscription_gets_subscribed_then_the_snapshot(live_server):
    async with tab(live_server) as ws:
        await subscribe(ws, TRENDING)
        assert_trending_is_current(live_server, await stream_data(ws, "trending", TRENDING))
        await ping(ws)  # one snapshot, nothing else


async def test_engagement_subscription_gets_subscribed_then_the_current_counts(live_server):
    _, tweet = liked_and_bookmarked_tweet(live_server, "count me on a tab")
    async with tab(live_server) as ws:
        await watch(ws, tweet, likes=1, bookmarks=1)
        await ping(ws)


async def test_private_streams_send_nothing_on_subscribe_without_since(live_server):
    me, fan = live_server.register(), live_server.register()
    live_server.follow(fan, me)
    async with tab(live_server, me) as ws:
        await subscribe(ws, notifications(me))
        await subscribe(ws, feed(me))
        await ping(ws)


async def test_like_reaches_the_tweets_counters_and_its_authors_notifications(live_server):
    author, fan = live_server.register("Ann Author"), live_server.register("Fred Fan")
    tweet = live_server.post_tweet(author, "like me")
    async with tab(live_server, author) as ws:
        await watch(ws, tweet)
        await subscribe(ws, notifications(author))
        live_server.engage(fan, tweet, "like")
        arrived = await of_streams(ws, 2)
        update = assert_envelope(arrived[engagement(tweet)], "engagement_update")
        assert_engagement_update(update, tweet, likes=1)
        notification = assert_envelope(arrived[notifications(author)], "notification")
        assert_notification(notification, kind="LIKE", actor=fan, tweet=tweet)
        await ping(ws)


async def test_tweet_of_a_followed_author_reaches_the_feed_subscription(live_server):
    reader, author = live_server.register(), live_server.register("Al Author")
    live_server.follow(reader, author)
    async with tab(live_server, reader) as ws:
        await subscribe(ws, feed(reader))
        tweet = live_server.post_tweet(author, "for my followers")
        data = await stream_data(ws, "feed_update", feed(reader))
        assert data["count"] == 1 and len(data["tweets"]) == 1, data
        assert_tweet(data["tweets"][0], author=author, content="for my followers")
        assert tweet_fields(data["tweets"][0]) == tweet_fields(tweet)
        await ping(ws)


async def test_a_broadcast_is_the_same_text_on_its_single_stream_endpoint_and_on_a_tab(live_server):
    """A group's message is framed once for all its receivers, whichever
    endpoint they came through."""
    author, fan, reader = live_server.register(), live_server.register(), live_server.register()
    live_server.follow(reader, author)
    tweet = live_server.post_tweet(author, "framed once")
    async with (
        live_server.connect(f"/ws/{engagement(tweet)}") as single_engagement,
        live_server.connect(f"/ws/{notifications(author)}", author.token) as single_notifications,
        live_server.connect(f"/ws/{feed(reader)}", reader.token) as single_feed,
        tab(live_server, author) as author_tab,
        tab(live_server, reader) as reader_tab,
    ):
        await recv_data(single_engagement, "engagement_update")
        await ping(single_notifications)
        await ping(single_feed)
        await watch(author_tab, tweet)
        await subscribe(author_tab, notifications(author))
        await subscribe(reader_tab, feed(reader))

        live_server.engage(fan, tweet, "like")
        on_tab = {}
        for _ in range(2):
            text = await recv_text(author_tab)
            on_tab[json.loads(text)["stream"]] = text
        assert on_tab[engagement(tweet)] == await recv_text(single_engagement)
        assert on_tab[notifications(author)] == await recv_text(single_notifications)

        live_server.post_tweet(author, "framed once for every follower")
        assert await recv_text(reader_tab) == await recv_text(single_feed)


# --- Resume -------------------------------------------------------------------------


async def test_resubscribing_with_since_after_a_disconnect_loses_and_repeats_nothing(live_server):
    me, author = live_server.register(), live_server.register("Al Author")
    fan, other_fan = live_server.register("Fred Fan"), live_server.register("Olga Other")
    live_server.follow(me, author)
    my_tweet = live_server.post_tweet(me, "mine")
    async with tab(live_server, me) as ws:
        await subscribe(ws, notifications(me))
        await subscribe(ws, feed(me))
        live_server.follow(fan, me)
        last_seen = (await stream_data(ws, "notification", notifications(me)))["notification_id"]
        seen = live_server.post_tweet(author, "seen before the disconnect")
        update = await stream_data(ws, "feed_update", feed(me))
        assert [t["tweet_id"] for t in update["tweets"]] == [seen["tweet_id"]]

    # While the tab is closed.
    live_server.engage(fan, my_tweet, "like")
    live_server.engage(fan, my_tweet, "retweet")
    live_server.follow(other_fan, me)
    missed = [live_server.post_tweet(author, f"missed {n}") for n in range(2)]

    async with tab(live_server, me) as ws:
        await subscribe(ws, notifications(me), since=last_seen)
        replayed = [await stream_data(ws, "notification", notifications(me)) for _ in range(3)]
        assert_notification(replayed[0], kind="LIKE", actor=fan, tweet=my_tweet)
        assert_notification(replayed[1], kind="RETWEET", actor=fan, tweet=my_tweet)
        assert_notification(replayed[2], kind="FOLLOW", actor=other_fan, tweet=None)
        await ping(ws)  # nothing else was missed
        await subscribe(ws, feed(me), since=seen["tweet_id"])
        update = await stream_data(ws, "feed_update", feed(me))
        assert update["count"] == 2, update
        assert [tweet_fields(t) for t in update["tweets"]] == [tweet_fields(t) for t in missed]
        await ping(ws)

        live_server.engage(other_fan, my_tweet, "like")
        data = await stream_data(ws, "notification", notifications(me))
        assert_notification(data, kind="LIKE", actor=other_fan, tweet=my_tweet)
        live = live_server.post_tweet(author, "after the resubscribe")
        update = await stream_data(ws, "feed_update", feed(me))
        assert [tweet_fields(t) for t in update["tweets"]] == [tweet_fields(live)]
        await ping(ws)


class Resumer:
    """A tab that keeps closing and coming back with `since` (the last
    notification and tweet it saw), remembering everything it got."""

    def __init__(self, server, account):
        self.server = server
        self.account = account
        self.notification_ids: list[int] = []
        self.tweet_ids: list[int] = []
        self.connections = 0

    async def connect_and_read(self, *, enough) -> None:
        """Open a tab, subscribe to both streams with `since`, and read until
        `enough()` or the server goes quiet; then close."""
        me = self.account
        since = {
            notifications(me): str(self.notification_ids[-1]) if self.notification_ids else "0",
            feed(me): str(self.tweet_ids[-1]) if self.tweet_ids else "0",
        }
        async with tab(self.server, me) as ws:
            self.connections += 1
            for stream, last_seen in since.items():
                await send(ws, type="subscribe", stream=stream, since=last_seen)
            subscribed = set()
            while len(subscribed) < 2 or not enough():
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except TimeoutError:
                    assert len(subscribed) == 2, f"subscribed to {subscribed} only"
                    return
                self.take(message, subscribed)

    def take(self, message: dict, subscribed: set) -> None:
        me = self.account
        stream = message.get("stream")
        if message["type"] == "subscribed":
            assert stream not in subscribed, message
            subscribed.add(stream)
            return
        kind = {notifications(me): "notification", feed(me): "feed_update"}.get(stream)
        data = assert_envelope(message, kind or "(a stream this tab holds)")
        # Each stream's messages come after its `subscribed`.
        assert stream in subscribed, message
        if kind == "notification":
            self.notification_ids.append(int(data["notification_id"]))
        else:
            self.tweet_ids.extend(int(t["tweet_id"]) for t in data["tweets"])


async def test_resubscribing_with_since_while_actions_continue_loses_and_repeats_nothing(live_server):
    """Tweets mentioning the reader (a notification and a feed update each)
    keep coming while its tab closes, stays away a moment and subscribes
    again with `since`, over and over: each arrives once, oldest first."""
    me, author = live_server.register(), live_server.register()
    live_server.follow(me, author)
    posted: list[dict] = []

    def act():
        for n in range(60):
            posted.append(live_server.post_tweet(author, f"@{me.username} while you come and go {n}"))

    acting = asyncio.create_task(asyncio.to_thread(act))
    resumer = Resumer(live_server, me)
    try:
        while not acting.done():
            read = len(resumer.notification_ids)
            await resumer.connect_and_read(enough=lambda read=read: len(resumer.notification_ids) >= read + 2)
            # Away while actions happen.
            away_from = len(posted)
            await wait_until(lambda away_from=away_from: len(posted) > away_from or acting.done(), timeout=10)
        await acting
    finally:
        acting.cancel()
    expected_tweets = [int(t["tweet_id"]) for t in posted]
    # Until the server goes quiet: whatever came late, twice, would show.
    await resumer.connect_and_read(enough=lambda: False)

    status, page = live_server.api("GET", "/api/notifications/?page_size=100", me.token)
    assert status == 200
    expected_notifications = sorted(int(n["notification_id"]) for n in page["results"])
    assert len(expected_notifications) == len(posted)
    assert resumer.connections >= 3, "the tab did not come back often enough to test anything"
    assert resumer.notification_ids == expected_notifications, "a notification lost, repeated or out of order"
    assert resumer.tweet_ids == expected_tweets, "a tweet lost, repeated or out of order"


# --- Typing ---------------------------------------------------------------------------


async def test_typing_on_a_tab_reaches_other_tabs_but_not_the_sender(live_server):
    author = live_server.register()
    typist, reader = live_server.register("Tina Typist"), live_server.register()
    tweet = live_server.post_tweet(author, "reply to me")
    async with (
        tab(live_server, typist) as sender,
        tab(live_server, reader) as signed_in,
        tab(live_server) as anonymous,
    ):
        for ws in (sender, signed_in, anonymous):
            await watch(ws, tweet)
        await sender.send(typing(engagement(tweet), True))
        for watcher in (signed_in, anonymous):
            data = await stream_data(watcher, "typing", engagement(tweet))
            assert data == typing_data(tweet, typist, True)
        await ping(sender)  # the pong comes first: no echo of its own typing

        await sender.send(typing(engagement(tweet), False))
        for watcher in (signed_in, anonymous):
            data = await stream_data(watcher, "typing", engagement(tweet))
            assert data == typing_data(tweet, typist, False)
        await ping(sender)


async def test_a_typist_who_unsubscribes_is_reported_stopped(live_server):
    author, typist = live_server.register(), live_server.register("Una Unsubscriber")
    tweet = live_server.post_tweet(author, "reply to me")
    async with tab(live_server, typist) as sender, tab(live_server) as watcher:
        await watch(sender, tweet)
        await watch(watcher, tweet)
        await sender.send(typing(engagement(tweet), True))
        assert (await stream_data(watcher, "typing", engagement(tweet)))["is_typing"] is True
        await unsubscribe(sender, engagement(tweet))
        left = time.monotonic()
        data = await stream_data(watcher, "typing", engagement(tweet))
        assert data == typing_data(tweet, typist, False)
        # Well before these servers' 1 s typing expiry would have said so.
        assert time.monotonic() - left < 0.7
        # Typing on the stream it left is typing on a stream not held.
        await sender.send(typing(engagement(tweet), True))
        await stream_error(sender, engagement(tweet))
        await ping(watcher)


async def test_anonymous_typing_on_a_tab_is_an_error_naming_the_stream(live_server):
    author, reader = live_server.register(), live_server.register()
    tweet = live_server.post_tweet(author, "reply to me")
    async with tab(live_server) as anonymous, tab(live_server, reader) as watcher:
        await watch(anonymous, tweet)
        await watch(watcher, tweet)
        await anonymous.send(typing(engagement(tweet)))
        await stream_error(anonymous, engagement(tweet))
        await ping(anonymous)
        await ping(watcher)  # it heard no typing


async def test_typing_on_a_stream_not_held_is_an_error_naming_it(live_server):
    author, typist = live_server.register(), live_server.register()
    held, other = (live_server.post_tweet(author, f"tweet {n}") for n in range(2))
    async with tab(live_server, typist) as ws, tab(live_server) as watcher:
        await watch(ws, held)
        await subscribe(ws, TRENDING)
        await stream_data(ws, "trending", TRENDING)
        await watch(watcher, other)
        await ws.send(typing(engagement(other)))
        await stream_error(ws, engagement(other))
        # Held, but a stream nobody types on.
        await ws.send(typing(TRENDING))
        await stream_error(ws, TRENDING)
        await ping(ws)
        await ping(watcher)  # no typing reached the other tweet's watchers


# --- Refused subscriptions ------------------------------------------------------------


async def test_private_streams_refuse_an_anonymous_tab_with_4401(live_server):
    owner, fan = live_server.register(), live_server.register()
    tweet = live_server.post_tweet(owner, "public counters")
    async with tab(live_server) as ws:
        await watch(ws, tweet)
        await refused(ws, notifications(owner), 4401)
        await refused(ws, feed(owner), 4401)
        live_server.engage(fan, tweet, "like")
        await next_like_count(ws, tweet, 1)
        await ping(ws)


async def test_another_users_streams_are_refused_with_4403(live_server):
    owner, intruder, fan = live_server.register(), live_server.register(), live_server.register()
    tweet = live_server.post_tweet(owner, "public counters")
    async with tab(live_server, intruder) as ws:
        await subscribe(ws, notifications(intruder))
        await watch(ws, tweet)
        await refused(ws, notifications(owner), 4403)
        await refused(ws, feed(owner), 4403)
        live_server.engage(fan, tweet, "like")
        await next_like_count(ws, tweet, 1)
        # The intruder's own stream carries on too.
        live_server.follow(fan, intruder)
        data = await stream_data(ws, "notification", notifications(intruder))
        assert_notification(data, kind="FOLLOW", actor=fan, tweet=None)
        await ping(ws)


def unknown_names(me, tweet) -> list[str]:
    tweet_id, user_id = tweet["tweet_id"], me.user_id
    return [
        "nope",
        "trending/",
        "trending/1",
        "Trending",
        "engagement",
        "engagement/",
        "engagement/abc",
        "engagement/-1",
        f"engagement/0{tweet_id}",
        f"engagement/00{tweet_id}",
        f"engagement/+{tweet_id}",
        f"engagement/{tweet_id}/",
        f"engagement/{tweet_id} ",
        f"engagement/ {tweet_id}",
        f"engagement/{tweet_id}.0",
        f"engagement.{tweet_id}",
        f"Engagement/{tweet_id}",
        f"/ws/engagement/{tweet_id}",
        f"engagement/{tweet_id}/{tweet_id}",
        "engagement/\u0661\u0662",  # Arabic-Indic digits: decimal, not the server's spelling
        "engagement/99999999999999999999",
        "engagement/9000000000",  # no such tweet
        f"notifications/0{user_id}",
        f"feed/{user_id}x",
        "\u0000",
        "feed/\u0000",
    ]


async def test_unknown_names_and_missing_tweets_are_refused_with_4404(live_server):
    me, author, fan = live_server.register(), live_server.register(), live_server.register()
    tweet = live_server.post_tweet(author, "spelled one way")
    async with tab(live_server, me) as ws:
        await watch(ws, tweet)
        for name in unknown_names(me, tweet):
            await refused(ws, name, 4404)
        live_server.engage(fan, tweet, "like")
        await next_like_count(ws, tweet, 1)
        await ping(ws)


async def test_subscriptions_over_the_cap_are_refused_with_4429(capped_server):
    author, fan = capped_server.register(), capped_server.register()
    tweets = [capped_server.post_tweet(author, f"capped {n}") for n in range(CAP + 1)]
    async with tab(capped_server, max_subscriptions=CAP) as ws:
        for tweet in tweets[:CAP]:
            await watch(ws, tweet)
        await refused(ws, engagement(tweets[CAP]), 4429)
        await refused(ws, TRENDING, 4429)
        # One it holds is no new subscription.
        await subscribe(ws, engagement(tweets[0]))
        capped_server.engage(fan, tweets[0], "like")
        await next_like_count(ws, tweets[0], 1)
        # The cap counts what the tab holds: ending one makes room.
        await unsubscribe(ws, engagement(tweets[1]))
        await watch(ws, tweets[CAP])
        await ping(ws)


async def test_subscribing_too_fast_is_refused_with_4429_and_the_tab_carries_on(throttled_server):
    author, fan = throttled_server.register(), throttled_server.register()
    tweets = [throttled_server.post_tweet(author, f"scrolled past {n}") for n in range(SUBSCRIBES_BURST + 1)]
    async with tab(throttled_server) as ws:
        for tweet in tweets[:SUBSCRIBES_BURST]:
            await watch(ws, tweet)
        await refused(ws, engagement(tweets[-1]), 4429)
        throttled_server.engage(fan, tweets[0], "like")
        await next_like_count(ws, tweets[0], 1)
        await ping(ws)
        # The budget refills at its rate.
        await asyncio.sleep(1.2 / SUBSCRIBES_PER_SECOND)
        await watch(ws, tweets[-1])
        await ping(ws)


# --- Subscribing again, unsubscribing --------------------------------------------------


async def test_subscribing_again_sends_no_second_snapshot_and_no_second_copy(live_server):
    me, fan = live_server.register(), live_server.register()
    tweet = live_server.post_tweet(me, "watched twice")
    live_server.follow(fan, me)
    async with tab(live_server, me) as ws:
        await watch(ws, tweet)
        await subscribe(ws, engagement(tweet))
        await ping(ws)  # no second snapshot
        await subscribe(ws, notifications(me))
        await subscribe(ws, notifications(me), since="0")
        await ping(ws)  # no replay of the FOLLOW
        live_server.engage(fan, tweet, "like")
        arrived = await of_streams(ws, 2)
        assert_engagement_update(
            assert_envelope(arrived[engagement(tweet)], "engagement_update"), tweet, likes=1
        )
        data = assert_envelope(arrived[notifications(me)], "notification")
        assert_notification(data, kind="LIKE", actor=fan, tweet=tweet)
        await ping(ws)  # one copy of each


async def test_nothing_of_a_stream_follows_its_unsubscribed(live_server):
    me, fan = live_server.register(), live_server.register()
    dropped = live_server.post_tweet(me, "no longer watched")
    kept = live_server.post_tweet(me, "still watched")
    async with tab(live_server, me) as ws:
        await watch(ws, dropped)
        await watch(ws, kept)
        await subscribe(ws, notifications(me))
        await unsubscribe(ws, engagement(dropped))
        await unsubscribe(ws, notifications(me))
        live_server.engage(fan, dropped, "like")
        live_server.follow(fan, me)
        # Sent after those: had anything of theirs come, it would come first.
        live_server.engage(fan, kept, "like")
        await next_like_count(ws, kept, 1)
        await ping(ws)
        # Subscribing again starts afresh, with a snapshot.
        await watch(ws, dropped, likes=1)
        await ping(ws)


async def test_unsubscribing_from_a_stream_not_held_is_answered_unsubscribed(live_server):
    me, other = live_server.register(), live_server.register()
    tweet = live_server.post_tweet(other, "never watched")
    async with tab(live_server, me) as ws:
        for name in (engagement(tweet), TRENDING, notifications(other), "nope"):
            await unsubscribe(ws, name)
        await subscribe(ws, TRENDING)
        await stream_data(ws, "trending", TRENDING)
        await ping(ws)


# --- Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "subscribe"}',
        '{"type": "subscribe", "stream": 7}',
        '{"type": "subscribe", "stream": ["trending"]}',
        '{"type": "subscribe", "stream": null}',
        '{"type": "subscribe", "stream": ""}',
        '{"type": "unsubscribe"}',
        '{"type": "unsubscribe", "stream": {"name": "trending"}}',
        '{"type": "typing", "is_typing": true}',
        "{not json",
        '[{"type": "subscribe", "stream": "trending"}]',
        '{"type": "dance"}',
    ],
    ids=[
        "subscribe-no-stream",
        "subscribe-number",
        "subscribe-list",
        "subscribe-null",
        "subscribe-empty",
        "unsubscribe-no-stream",
        "unsubscribe-object",
        "typing-no-stream",
        "bad-json",
        "array",
        "unknown-type",
    ],
)
async def test_malformed_control_message_gets_an_error_frame_and_the_tab_carries_on(live_server, frame):
    author, fan = live_server.register(), live_server.register()
    tweet = live_server.post_tweet(author, "still counting")
    async with tab(live_server) as ws:
        await watch(ws, tweet)
        await ws.send(frame)
        error = assert_envelope(await recv_json(ws), "error")
        assert set(error) == {"code", "message"} and error["code"], error
        await ping(ws)
        live_server.engage(fan, tweet, "like")
        await next_like_count(ws, tweet, 1)


async def test_a_message_of_unknown_type_naming_a_stream_gets_an_error_naming_it(live_server):
    async with tab(live_server) as ws:
        await subscribe(ws, TRENDING)
        await stream_data(ws, "trending", TRENDING)
        await send(ws, type="dance", stream=TRENDING)
        await stream_error(ws, TRENDING)
        await ping(ws)


async def test_a_malformed_since_gets_an_error_naming_the_stream(live_server):
    me = live_server.register()
    async with tab(live_server, me) as ws:
        await send(ws, type="subscribe", stream=notifications(me), since="abc")
        message = await recv_json(ws)
        if message["type"] == "subscribed":
            control(message, "subscribed", notifications(me))
            message = await recv_json(ws)
        control(message, "error", notifications(me))
        await ping(ws)


# --- Streams under their own names only ---------------------------------------------------


async def test_a_tab_gets_only_the_streams_it_holds_under_their_own_names(live_server):
    me, author, fan = live_server.register(), live_server.register(), live_server.register()
    live_server.follow(me, author)
    held = live_server.post_tweet(author, "held")
    other = live_server.post_tweet(author, "not held")
    async with tab(live_server, me) as ws:
        await watch(ws, held)
        # Every other spelling of other streams, and the server's own
        # placeholder for a message to several groups: no subscription.
        for name in (
            f"engagement/0{other['tweet_id']}",
            f"engagement/{other['tweet_id']}/",
            f"engagement.{other['tweet_id']}",
            "\u0000",
            "feed/\u0000",
            f"feed/0{me.user_id}",
            f"notifications/{me.user_id} ",
        ):
            await refused(ws, name, 4404)
        await ws.send(typing(engagement(other)))
        await stream_error(ws, engagement(other))
        frames: list[dict] = []
        reader = asyncio.create_task(read_into(ws, frames))
        try:
            for _ in range(3):
                live_server.engage(live_server.register(), other, "like")
            live_server.follow(fan, me)  # a notification of a stream not held
            live_server.post_tweet(author, "for the feed not held")
            live_server.engage(fan, held, "like")
            await wait_until(
                lambda: any(f["type"] == "engagement_update" for f in frames),
                timeout=MESSAGE_TIMEOUT,
                message="the like on the held tweet did not arrive",
            )
            await ws.send("ping")
            await wait_until(lambda: frames[-1]["type"] == "pong", timeout=MESSAGE_TIMEOUT)
        finally:
            reader.cancel()
    assert [f["type"] for f in frames] == ["engagement_update", "pong"], frames
    assert frames[0]["stream"] == engagement(held), frames[0]
    assert_engagement_update(frames[0]["data"], held, likes=1)


async def test_fields_a_client_adds_to_typing_cannot_move_it_to_another_tweet(live_server):
    author, typist = live_server.register(), live_server.register("Tom Typist")
    held, other = (live_server.post_tweet(author, f"tweet {n}") for n in range(2))
    async with (
        tab(live_server, typist) as sender,
        tab(live_server) as on_held,
        tab(live_server) as on_other,
    ):
        await watch(sender, held)
        await watch(on_held, held)
        await watch(on_other, other)
        await send(
            sender,
            type="typing",
            stream=engagement(held),
            is_typing=True,
            tweet_id=other["tweet_id"],
            group=engagement(other).replace("/", "."),
            data={"tweet_id": other["tweet_id"]},
        )
        data = await stream_data(on_held, "typing", engagement(held))
        assert data == typing_data(held, typist, True)
        await ping(on_other)


# --- /ws/stats -----------------------------------------------------------------------------


async def test_stats_count_a_tab_once_as_what_it_holds(live_server):
    me = live_server.register()
    tweet = live_server.post_tweet(me, "counted")
    baseline = await settled_stats(live_server)
    as_global = plus_stats(baseline, global_connections=1)
    as_user = plus_stats(baseline, users=1, user_connections=1)
    async with tab(live_server, me) as ws:
        await wait_for_stats(live_server, as_global)
        await subscribe(ws, TRENDING)
        await stream_data(ws, "trending", TRENDING)
        await watch(ws, tweet)
        await wait_for_stats(live_server, as_global)
        await subscribe(ws, notifications(me))
        await wait_for_stats(live_server, as_user)
        await subscribe(ws, feed(me))
        await wait_for_stats(live_server, as_user)
        await unsubscribe(ws, notifications(me))
        await wait_for_stats(live_server, as_user)  # it still holds the feed
        await unsubscribe(ws, feed(me))
        await wait_for_stats(live_server, as_global)
        await subscribe(ws, feed(me))
        await wait_for_stats(live_server, as_user)
        # The same user on a single-stream endpoint: still one active user.
        async with live_server.connect(f"/ws/{notifications(me)}", me.token) as single:
            await ping(single)
            await wait_for_stats(live_server, plus_stats(baseline, users=1, user_connections=2))
        async with tab(live_server) as anonymous:
            await subscribe(anonymous, TRENDING)
            await wait_for_stats(live_server, plus_stats(as_user, global_connections=1))
    await wait_for_stats(live_server, baseline)


# --- Two processes on one Redis ---------------------------------------------------------------


async def test_a_tab_on_one_process_gets_what_requests_to_another_cause(
    live_server_redis, second_server_redis
):
    here, there = live_server_redis, second_server_redis
    me, author = here.register(), there.register("Al Author")
    fan = there.register("Fred Fan")
    there.follow(me, author)
    my_tweet = here.post_tweet(me, "watched from the other process")
    async with tab(here, me) as ws:
        await subscribe(ws, notifications(me))
        await subscribe(ws, feed(me))
        await watch(ws, my_tweet)

        there.follow(fan, me)
        data = await stream_data(ws, "notification", notifications(me))
        assert_notification(data, kind="FOLLOW", actor=fan, tweet=None)

        there.engage(fan, my_tweet, "like")
        arrived = await of_streams(ws, 2)
        update = assert_envelope(arrived[engagement(my_tweet)], "engagement_update")
        assert_engagement_update(update, my_tweet, likes=1)
        data = assert_envelope(arrived[notifications(me)], "notification")
        assert_notification(data, kind="LIKE", actor=fan, tweet=my_tweet)

        tweet = there.post_tweet(author, "posted through the other process")
        update = await stream_data(ws, "feed_update", feed(me))
        assert [tweet_fields(t) for t in update["tweets"]] == [tweet_fields(tweet)]
        await ping(ws)


async def test_stats_of_every_process_count_a_tab_as_what_it_holds(live_server_redis, second_server_redis):
    here, there = live_server_redis, second_server_redis
    me = here.register()
    baseline = await settled_stats(there)
    async with AsyncExitStack() as stack:
        ws = await stack.enter_async_context(tab(here, me))
        await subscribe(ws, TRENDING)
        await stream_data(ws, "trending", TRENDING)
        for server in (here, there):
            await wait_for_stats(server, plus_stats(baseline, global_connections=1))
        await subscribe(ws, notifications(me))
        for server in (here, there):
            await wait_for_stats(server, plus_stats(baseline, users=1, user_connections=1))
        await unsubscribe(ws, notifications(me))
        for server in (here, there):
            await wait_for_stats(server, plus_stats(baseline, global_connections=1))
    for server in (here, there):
        await wait_for_stats(server, baseline)


async def test_a_tab_that_just_subscribed_on_one_process_gets_the_next_tweet_from_another(
    live_server_redis, second_server_redis
):
    """`subscribed` comes once the tab has joined the feed everywhere: a
    tweet committed after it, through another process, must reach it. A
    race shows only sometimes, so a few fresh followers try."""
    author = second_server_redis.register()
    for attempt in range(3):
        reader = live_server_redis.register()
        second_server_redis.follow(reader, author)
        async with tab(live_server_redis, reader) as ws:
            await subscribe(ws, feed(reader))
            tweet = second_server_redis.post_tweet(author, f"right after you subscribed ({attempt})")
            update = await stream_data(ws, "feed_update", feed(reader))
            assert [tweet_fields(t) for t in update["tweets"]] == [tweet_fields(tweet)], attempt
