"""Two Daphne processes sharing one database and one Redis channel layer, as
in production: events and connection statistics span every process."""

import asyncio
import json
import time
from contextlib import AsyncExitStack

import pytest

from .helpers import (
    assert_engagement_update,
    ping,
    recv_data,
    settled_stats,
    tweet_fields,
    wait_for_stats,
)

pytestmark = pytest.mark.asyncio


async def test_like_through_one_process_reaches_watchers_on_another(live_server_redis, second_server_redis):
    author, fan = live_server_redis.register(), live_server_redis.register()
    tweet = live_server_redis.post_tweet(author, "seen from everywhere")
    path = f"/ws/engagement/{tweet['tweet_id']}"
    async with AsyncExitStack() as stack:
        watchers = []
        for server in (live_server_redis, second_server_redis):
            ws = await stack.enter_async_context(server.connect(path))
            assert_engagement_update(await recv_data(ws, "engagement_update"), tweet)
            watchers.append(ws)
        inbox = await stack.enter_async_context(
            second_server_redis.connect(f"/ws/notifications/{author.user_id}", author.token)
        )
        await ping(inbox)
        live_server_redis.engage(fan, tweet, "like")
        for ws in watchers:
            assert_engagement_update(await recv_data(ws, "engagement_update"), tweet, likes=1)
        assert (await recv_data(inbox, "notification"))["type"] == "LIKE"


async def test_stats_count_connections_of_every_server_process(live_server_redis, second_server_redis):
    """PROTOCOL.md: /ws/stats counts over every server process that shares
    the channel layer; active_users counts a user once wherever they are."""
    user = live_server_redis.register()
    baseline = await settled_stats(live_server_redis)
    async with (
        live_server_redis.connect(f"/ws/notifications/{user.user_id}", user.token) as here,
        second_server_redis.connect(f"/ws/feed/{user.user_id}", user.token) as there,
        second_server_redis.connect("/ws/trending") as trending,
    ):
        await ping(here)
        await ping(there)
        await recv_data(trending, "trending")
        expected = {
            "active_users": baseline["active_users"] + 1,
            "total_user_connections": baseline["total_user_connections"] + 2,
            "global_connections": baseline["global_connections"] + 1,
            "total_connections": baseline["total_connections"] + 3,
        }
        for server in (live_server_redis, second_server_redis):
            await wait_for_stats(server, expected)
    for server in (live_server_redis, second_server_redis):
        await wait_for_stats(server, baseline)


async def assert_fresh_follower_gets_next_tweet(*, feed_server, post_server, attempts=3):
    """A feed connection that answered a ping has joined its group: a tweet
    committed after that must reach it. A race shows only sometimes, so a few
    fresh followers try."""
    author = post_server.register()
    for attempt in range(attempts):
        reader = post_server.register()
        post_server.follow(reader, author)
        async with feed_server.connect(f"/ws/feed/{reader.user_id}", reader.token) as ws:
            await ping(ws)
            tweet = post_server.post_tweet(author, f"right after you connected ({attempt})")
            tweets = (await recv_data(ws, "feed_update"))["tweets"]
            assert [tweet_fields(t) for t in tweets] == [tweet_fields(tweet)], attempt


async def test_follower_who_just_connected_gets_the_next_tweet(live_server_redis):
    await assert_fresh_follower_gets_next_tweet(feed_server=live_server_redis, post_server=live_server_redis)


async def test_follower_on_another_process_who_just_connected_gets_the_next_tweet(
    live_server_redis, second_server_redis
):
    await assert_fresh_follower_gets_next_tweet(
        feed_server=second_server_redis, post_server=live_server_redis
    )


async def test_typing_on_one_process_reaches_and_expires_for_watchers_on_another(
    live_server_redis, second_server_redis
):
    """The typist's process owns the expiry; watchers elsewhere hear it start
    and, once the typist goes quiet (REALTIME_TYPING_TIMEOUT_SECONDS=1 in
    these servers), stop."""
    author = live_server_redis.register()
    typist = live_server_redis.register("Tina Typist")
    tweet = live_server_redis.post_tweet(author, "reply to me")
    path = f"/ws/engagement/{tweet['tweet_id']}"
    expected = {
        "tweet_id": tweet["tweet_id"],
        "user_id": typist.user_id,
        "user_name": typist.display_name,
    }
    async with (
        live_server_redis.connect(path, typist.token) as sender,
        second_server_redis.connect(path) as watcher,
    ):
        await recv_data(sender, "engagement_update")
        await recv_data(watcher, "engagement_update")
        await sender.send(json.dumps({"type": "typing", "is_typing": True}))
        assert await recv_data(watcher, "typing") == {**expected, "is_typing": True}
        last_typed = time.monotonic()
        assert await recv_data(watcher, "typing") == {**expected, "is_typing": False}
        quiet_for = time.monotonic() - last_typed
        assert 0.8 <= quiet_for < 3, f"reported stopped {quiet_for:.2f} s after the last typing"


async def test_likes_through_both_processes_are_coalesced_once_for_watchers_on_both(
    live_server_redis, second_server_redis
):
    """PROTOCOL.md's coalescing holds across processes: likes arriving through
    both servers give every watcher the first update at once, then at most
    one per second (the default window), the last with the final counts."""
    author = live_server_redis.register()
    servers = (live_server_redis, second_server_redis)
    fans = [servers[i % 2].register() for i in range(6)]
    tweet = live_server_redis.post_tweet(author, "liked everywhere")
    path = f"/ws/engagement/{tweet['tweet_id']}"
    async with AsyncExitStack() as stack:
        watchers = []
        for server in servers:
            ws = await stack.enter_async_context(server.connect(path))
            assert_engagement_update(await recv_data(ws, "engagement_update"), tweet)
            watchers.append(ws)

        async def arrivals(ws):
            # Timestamps taken as messages arrive, while the likes are sent.
            seen = []
            while True:
                data = await recv_data(ws, "engagement_update", timeout=10)
                seen.append(time.monotonic())
                if data["engagement"]["likes"] == len(fans):
                    assert_engagement_update(data, tweet, likes=len(fans))
                    return seen

        collectors = [asyncio.create_task(arrivals(ws)) for ws in watchers]
        first_like = None
        for i, fan in enumerate(fans):
            await asyncio.to_thread(servers[i % 2].engage, fan, tweet, "like")
            first_like = first_like or time.monotonic()
        for seen in await asyncio.wait_for(asyncio.gather(*collectors), 10):
            assert seen[0] - first_like < 0.5, "the first update must go out at once"
            gaps = [later - earlier for earlier, later in zip(seen, seen[1:])]
            # Some slack below 1 s for timer and scheduling jitter.
            assert all(gap >= 0.7 for gap in gaps), f"{len(seen)} updates, {gaps} s apart"
