"""PROTOCOL.md "What triggers what", against a live server.

Every action goes through the REST API; every effect is read off real
WebSockets. To show that a message did NOT arrive, a later action that does
produce one follows, and it must be the first message received.
"""

import asyncio
import time
from contextlib import AsyncExitStack

import pytest

from .helpers import (
    assert_engagement,
    assert_engagement_update,
    assert_notification,
    assert_tweet,
    next_engagement,
    next_notification,
    ping,
    recv_data,
    tweet_fields,
)

pytestmark = pytest.mark.asyncio


async def notifications_of(stack: AsyncExitStack, server, account):
    ws = await stack.enter_async_context(
        server.connect(f"/ws/notifications/{account.user_id}", account.token)
    )
    await ping(ws)  # joined its group: nothing sent from now on can be missed
    return ws


async def feed_of(stack: AsyncExitStack, server, account):
    ws = await stack.enter_async_context(server.connect(f"/ws/feed/{account.user_id}", account.token))
    await ping(ws)
    return ws


async def watch(stack: AsyncExitStack, server, tweet, **counts):
    """Watch a tweet anonymously; check the snapshot has `counts`."""
    ws = await stack.enter_async_context(server.connect(f"/ws/engagement/{tweet['tweet_id']}"))
    await next_engagement(ws, tweet, **counts)
    return ws


async def test_like_notifies_tweet_author(live_server):
    alice, bob = live_server.register("Alice Author"), live_server.register("Bob Liker")
    tweet = live_server.post_tweet(alice, "like me")
    async with AsyncExitStack() as stack:
        inbox = await notifications_of(stack, live_server, alice)
        live_server.engage(bob, tweet, "like")
        data = await recv_data(inbox, "notification")
    assert_notification(data, kind="LIKE", actor=bob, tweet=tweet)
    # REST lists the same notification in the same shape.
    status, page = live_server.api("GET", "/api/notifications/", alice.token)
    assert status == 200
    assert page["results"][0] == {**data, "read": False}


async def test_like_updates_tweet_watchers(live_server):
    alice, bob = live_server.register(), live_server.register()
    tweet = live_server.post_tweet(alice, "watch my likes")
    async with AsyncExitStack() as stack:
        first = await watch(stack, live_server, tweet)
        second = await watch(stack, live_server, tweet)
        answer = live_server.engage(bob, tweet, "like")
        assert_engagement_update(answer, tweet, likes=1)
        for watcher in (first, second):
            await next_engagement(watcher, tweet, likes=1)


async def test_retweet_notifies_author_and_updates_watchers(live_server):
    alice, bob = live_server.register(), live_server.register("Bob Retweeter")
    tweet = live_server.post_tweet(alice, "retweet me")
    async with AsyncExitStack() as stack:
        inbox = await notifications_of(stack, live_server, alice)
        watcher = await watch(stack, live_server, tweet)
        live_server.engage(bob, tweet, "retweet")
        await next_notification(inbox, kind="RETWEET", actor=bob, tweet=tweet)
        await next_engagement(watcher, tweet, retweets=1)


async def test_reply_notifies_parent_author_counts_reply_and_reaches_replier_followers(live_server):
    alice, carol = live_server.register(), live_server.register()
    bob = live_server.register("Bob Replier")
    live_server.follow(carol, bob)
    parent = live_server.post_tweet(alice, "reply to me")
    async with AsyncExitStack() as stack:
        inbox = await notifications_of(stack, live_server, alice)
        watcher = await watch(stack, live_server, parent)
        carol_feed = await feed_of(stack, live_server, carol)
        reply = live_server.post_tweet(bob, "here is my reply", reply_to=parent["tweet_id"])
        assert reply["reply_to"] == parent["tweet_id"]

        await next_notification(inbox, kind="REPLY", actor=bob, tweet=reply)
        await next_engagement(watcher, parent, replies=1)
        feed = await recv_data(carol_feed, "feed_update")
    assert set(feed) == {"tweets", "count"} and feed["count"] == 1
    assert_tweet(feed["tweets"][0], author=bob, content="here is my reply")
    assert tweet_fields(feed["tweets"][0]) == tweet_fields(reply)


async def test_feed_update_tweet_has_the_shape_of_the_rest_tweet(live_server):
    """PROTOCOL.md: one serializer per resource, so a tweet looks the same
    wherever a client meets it."""
    reader, author = live_server.register(), live_server.register()
    live_server.follow(reader, author)
    async with AsyncExitStack() as stack:
        feed = await feed_of(stack, live_server, reader)
        posted = live_server.post_tweet(author, "one shape")
        pushed = (await recv_data(feed, "feed_update"))["tweets"][0]
    status, fetched = live_server.api("GET", f"/api/tweets/{posted['tweet_id']}/", reader.token)
    assert status == 200
    assert pushed == fetched == posted


async def test_reply_to_a_mentioned_parent_author_notifies_once_as_reply(live_server):
    alice, bob, carol = live_server.register(), live_server.register(), live_server.register()
    parent = live_server.post_tweet(alice, "reply to me")
    async with AsyncExitStack() as stack:
        inbox = await notifications_of(stack, live_server, alice)
        reply = live_server.post_tweet(bob, f"@{alice.username} agreed", reply_to=parent["tweet_id"])
        await next_notification(inbox, kind="REPLY", actor=bob, tweet=reply)
        live_server.follow(carol, alice)
        # Next comes the follow, not a MENTION for the same reply.
        await next_notification(inbox, kind="FOLLOW", actor=carol, tweet=None)


async def test_bookmark_updates_watchers_without_notifying_author(live_server):
    alice, bob, carol = live_server.register(), live_server.register(), live_server.register()
    tweet = live_server.post_tweet(alice, "bookmark me")
    async with AsyncExitStack() as stack:
        inbox = await notifications_of(stack, live_server, alice)
        watcher = await watch(stack, live_server, tweet)
        live_server.engage(bob, tweet, "bookmark")
        await next_engagement(watcher, tweet, bookmarks=1)
        live_server.follow(carol, alice)
        await next_notification(inbox, kind="FOLLOW", actor=carol, tweet=None)


async def test_follow_notifies_followee(live_server):
    alice, bob = live_server.register(), live_server.register("Bob Follower")
    async with AsyncExitStack() as stack:
        inbox = await notifications_of(stack, live_server, alice)
        live_server.follow(bob, alice)
        await next_notification(inbox, kind="FOLLOW", actor=bob, tweet=None)


async def test_mention_notifies_mentioned_user(live_server):
    alice, bob = live_server.register(), live_server.register("Bob Mentioner")
    async with AsyncExitStack() as stack:
        inbox = await notifications_of(stack, live_server, alice)
        tweet = live_server.post_tweet(bob, f"thanks @{alice.username}.")
        await next_notification(inbox, kind="MENTION", actor=bob, tweet=tweet)


async def test_post_reaches_each_follower_feed_and_no_one_else(live_server):
    author = live_server.register("Ann Author")
    first, second, stranger = live_server.register(), live_server.register(), live_server.register()
    live_server.follow(first, author)
    live_server.follow(second, author)
    async with AsyncExitStack() as stack:
        feeds = [await feed_of(stack, live_server, user) for user in (first, second)]
        stranger_feed = await feed_of(stack, live_server, stranger)
        tweet = live_server.post_tweet(author, "hello followers #E2E", topics=["Testing"])
        assert sorted(tweet["topics"]) == ["E2E", "Testing"]
        for feed in feeds:
            data = await recv_data(feed, "feed_update")
            assert data["count"] == 1 and len(data["tweets"]) == 1, data
            assert_tweet(data["tweets"][0], author=author, content="hello followers #E2E")
            assert tweet_fields(data["tweets"][0]) == tweet_fields(tweet)
            assert_engagement(data["tweets"][0]["engagement"])

        # The stranger's first feed_update is a later tweet by someone they follow.
        live_server.follow(stranger, author)
        later = live_server.post_tweet(author, "now you follow me")
        data = await recv_data(stranger_feed, "feed_update")
        assert [tweet_fields(t) for t in data["tweets"]] == [tweet_fields(later)]


async def test_own_actions_notify_nobody(live_server):
    alice, bob = live_server.register(), live_server.register()
    tweet = live_server.post_tweet(alice, "my own tweet")
    async with AsyncExitStack() as stack:
        inbox = await notifications_of(stack, live_server, alice)
        watcher = await watch(stack, live_server, tweet)
        live_server.engage(alice, tweet, "like")
        # Counted for the watchers all the same.
        await next_engagement(watcher, tweet, likes=1)
        live_server.post_tweet(alice, f"talking to myself @{alice.username}", reply_to=tweet["tweet_id"])
        await next_engagement(watcher, tweet, likes=1, replies=1)
        live_server.engage(bob, tweet, "like")
        await next_notification(inbox, kind="LIKE", actor=bob, tweet=tweet)


async def test_unlike_updates_watchers_without_notification(live_server):
    alice, bob, carol = live_server.register(), live_server.register(), live_server.register()
    tweet = live_server.post_tweet(alice, "like then unlike")
    async with AsyncExitStack() as stack:
        inbox = await notifications_of(stack, live_server, alice)
        watcher = await watch(stack, live_server, tweet)
        live_server.engage(bob, tweet, "like")
        await next_notification(inbox, kind="LIKE", actor=bob, tweet=tweet)
        await next_engagement(watcher, tweet, likes=1)

        answer = live_server.engage(bob, tweet, "like", method="DELETE")
        assert_engagement_update(answer, tweet, likes=0)
        await next_engagement(watcher, tweet, likes=0)
        live_server.follow(carol, alice)
        await next_notification(inbox, kind="FOLLOW", actor=carol, tweet=None)


async def test_repeated_like_is_harmless(live_server):
    alice, bob, carol = live_server.register(), live_server.register(), live_server.register()
    tweet = live_server.post_tweet(alice, "like me twice")
    async with AsyncExitStack() as stack:
        inbox = await notifications_of(stack, live_server, alice)
        watcher = await watch(stack, live_server, tweet)
        assert_engagement_update(live_server.engage(bob, tweet, "like"), tweet, likes=1)
        assert_engagement_update(live_server.engage(bob, tweet, "like"), tweet, likes=1)
        await next_notification(inbox, kind="LIKE", actor=bob, tweet=tweet)
        await next_engagement(watcher, tweet, likes=1)

        live_server.engage(carol, tweet, "bookmark")
        await next_engagement(watcher, tweet, likes=1, bookmarks=1)
        live_server.follow(carol, alice)
        await next_notification(inbox, kind="FOLLOW", actor=carol, tweet=None)


async def test_like_again_after_unlike_does_not_notify_twice(live_server):
    alice, bob, carol = live_server.register(), live_server.register(), live_server.register()
    tweet = live_server.post_tweet(alice, "fickle")
    async with AsyncExitStack() as stack:
        inbox = await notifications_of(stack, live_server, alice)
        watcher = await watch(stack, live_server, tweet)
        live_server.engage(bob, tweet, "like")
        await next_notification(inbox, kind="LIKE", actor=bob, tweet=tweet)
        await next_engagement(watcher, tweet, likes=1)
        live_server.engage(bob, tweet, "like", method="DELETE")
        await next_engagement(watcher, tweet, likes=0)
        live_server.engage(bob, tweet, "like")
        await next_engagement(watcher, tweet, likes=1)
        live_server.follow(carol, alice)
        await next_notification(inbox, kind="FOLLOW", actor=carol, tweet=None)


async def test_engagement_updates_are_coalesced_per_tweet(live_server):
    """PROTOCOL.md: at most one engagement_update per tweet per second (the
    default REALTIME_ENGAGEMENT_COALESCE_SECONDS), the first at once, the last
    carrying the final counts."""
    author = live_server.register()
    fans = [live_server.register() for _ in range(4)]
    tweet = live_server.post_tweet(author, "popular")
    async with AsyncExitStack() as stack:
        watcher = await watch(stack, live_server, tweet)
        arrivals = []

        async def collect():
            # Timestamps taken as messages arrive, while the likes are sent.
            while True:
                data = await recv_data(watcher, "engagement_update", timeout=10)
                arrivals.append(time.monotonic())
                if data["engagement"]["likes"] == len(fans):
                    return data

        collector = asyncio.create_task(collect())
        first_like = None
        for fan in fans:
            await asyncio.to_thread(live_server.engage, fan, tweet, "like")
            first_like = first_like or time.monotonic()
        final = await asyncio.wait_for(collector, 10)
    assert_engagement_update(final, tweet, likes=len(fans))
    assert arrivals[0] - first_like < 0.5, "the first update must go out at once"
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:])]
    # Some slack below 1 s for timer and scheduling jitter.
    assert all(gap >= 0.7 for gap in gaps), f"{len(arrivals)} updates, {gaps} s apart"
