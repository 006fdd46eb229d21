"""Two Daphne processes sharing one database and one Redis channel layer, as
in production: events and connection statistics span every process."""

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


async def test_like_through_one_process_reaches_watchers_on_another(
    live_server_redis, second_server_redis
):
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


async def test_stats_count_connections_of_every_server_process(
    live_server_redis, second_server_redis
):
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
    await assert_fresh_follower_gets_next_tweet(
        feed_server=live_server_redis, post_server=live_server_redis
    )


async def test_follower_on_another_process_who_just_connected_gets_the_next_tweet(
    live_server_redis, second_server_redis
):
    await assert_fresh_follower_gets_next_tweet(
        feed_server=second_server_redis, post_server=live_server_redis
    )
