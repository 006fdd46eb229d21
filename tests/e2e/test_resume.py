"""PROTOCOL.md "Resume": a client reconnecting with `?since=<last id seen>`
first gets what it missed, oldest first, then live messages, with no gap and
no duplicate."""

import pytest

from .helpers import (
    assert_envelope,
    next_notification,
    ping,
    recv_data,
    recv_json,
    tweet_fields,
)

pytestmark = pytest.mark.asyncio


async def test_notifications_since_replays_missed_ones_oldest_first_then_live(live_server):
    me = live_server.register()
    fans = [live_server.register() for _ in range(4)]
    for fan in fans[:3]:
        live_server.follow(fan, me)
    status, page = live_server.api("GET", "/api/notifications/", me.token)
    assert status == 200
    seen = page["results"][-1]  # the oldest: the client saw only the first follow
    path = f"/ws/notifications/{me.user_id}"
    async with live_server.connect(path, me.token, query={"since": seen["notification_id"]}) as ws:
        for fan in fans[1:3]:
            await next_notification(ws, kind="FOLLOW", actor=fan, tweet=None)
        await ping(ws)  # nothing else was missed
        live_server.follow(fans[3], me)
        await next_notification(ws, kind="FOLLOW", actor=fans[3], tweet=None)


async def test_feed_since_replays_missed_tweets_in_one_update_then_live(live_server):
    reader, author = live_server.register(), live_server.register()
    stranger = live_server.register()
    live_server.follow(reader, author)
    seen = live_server.post_tweet(author, "seen before the disconnect")
    missed = [live_server.post_tweet(author, f"missed {n}") for n in range(2)]
    live_server.post_tweet(stranger, "not followed")
    path = f"/ws/feed/{reader.user_id}"
    async with live_server.connect(path, reader.token, query={"since": seen["tweet_id"]}) as ws:
        replay = await recv_data(ws, "feed_update")
        assert replay["count"] == 2
        assert [tweet_fields(t) for t in replay["tweets"]] == [tweet_fields(t) for t in missed]
        await ping(ws)
        live = live_server.post_tweet(author, "after the reconnect")
        update = await recv_data(ws, "feed_update")
        assert update["count"] == 1
        assert [tweet_fields(t) for t in update["tweets"]] == [tweet_fields(live)]


async def test_since_with_nothing_missed_replays_nothing(live_server):
    reader, author = live_server.register(), live_server.register()
    live_server.follow(reader, author)
    latest = live_server.post_tweet(author, "already seen")
    path = f"/ws/feed/{reader.user_id}"
    async with live_server.connect(path, reader.token, query={"since": latest["tweet_id"]}) as ws:
        await ping(ws)


@pytest.mark.parametrize("since", ["abc", "-5", "99999999999999999999"])
async def test_malformed_since_gets_error_frame_and_stream_stays_open(live_server, since):
    me = live_server.register()
    path = f"/ws/notifications/{me.user_id}"
    async with live_server.connect(path, me.token, query={"since": since}) as ws:
        error = assert_envelope(await recv_json(ws), "error")
        assert error["code"], error
        await ping(ws)


async def test_a_replay_larger_than_the_inbound_message_limit_arrives_whole(live_server):
    # The 16 KiB limit is on what clients send; autobahn applies its limit to
    # both directions unless told otherwise (realtime/server/limits.py).
    reader, author = live_server.register(), live_server.register()
    live_server.follow(reader, author)
    tweets = [live_server.post_tweet(author, f"{n:03d} " + "x" * 270) for n in range(80)]
    async with live_server.connect(f"/ws/feed/{reader.user_id}", reader.token, query={"since": "0"}) as ws:
        data = await recv_data(ws, "feed_update")
        assert [t["tweet_id"] for t in data["tweets"]] == [t["tweet_id"] for t in tweets]
        assert data["count"] == 80
        await ping(ws)
