"""`/ws/` in process (PROTOCOL.md, "One connection per tab"): subscriptions
held on one connection, each with the access rules, snapshot, resume and
messages of its stream's single-stream endpoint, plus `stream`."""

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings
from rest_framework.authtoken.models import Token

from engagement import services as engagement_services
from feed import services as feed_services
from notifications.models import Notification
from realtime_project.asgi import application
from realtime_project.realtime.cluster.registry import registry
from tests.communicator import DaphneCommunicator

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def open_tab(user=None, path="/ws/"):
    if user is not None:
        token = await database_sync_to_async(lambda: Token.objects.get_or_create(user=user)[0].key)()
        path = f"{path}?token={token}"
    tab = DaphneCommunicator(application, path)
    assert (await tab.connect())[0]
    return tab


async def welcomed(user=None):
    tab = await open_tab(user)
    welcome = await tab.receive_json_from()
    assert welcome["type"] == "welcome"
    return tab, welcome


async def subscribe(tab, stream, **extra):
    await tab.send_json_to({"type": "subscribe", "stream": stream, **extra})
    reply = await tab.receive_json_from()
    assert (reply["type"], reply["stream"]) == ("subscribed", stream), reply
    return reply


async def refused(tab, stream) -> int:
    await tab.send_json_to({"type": "subscribe", "stream": stream})
    reply = await tab.receive_json_from()
    assert (reply["type"], reply["stream"]) == ("subscribe_error", stream), reply
    return reply["data"]["code"]


async def still_open(tab):
    await tab.send_to(text_data="ping")
    assert (await tab.receive_json_from())["type"] == "pong"


@database_sync_to_async
def notify(recipient, actor, count=1):
    return [
        str(Notification.objects.create(recipient=recipient, actor=actor, type="MENTION").pk)
        for _ in range(count)
    ]


@database_sync_to_async
def post(author, content):
    return feed_services.tweet_create(author=author, content=content)


async def test_welcome_names_the_user_and_the_cap(alice):
    with override_settings(REALTIME_MAX_SUBSCRIPTIONS=7):
        tab, welcome = await welcomed(alice)
        anonymous, anonymous_welcome = await welcomed()
    assert welcome["data"] == {"user_id": str(alice.pk), "max_subscriptions": 7}
    assert anonymous_welcome["data"] == {"user_id": None, "max_subscriptions": 7}
    await tab.disconnect()
    await anonymous.disconnect()


async def test_a_subscription_gets_subscribed_then_its_snapshot_named_by_its_stream(alice, bob):
    tweet = await post(bob, "counted")
    tab, _ = await welcomed()
    await subscribe(tab, "trending")
    snapshot = await tab.receive_json_from()
    assert (snapshot["type"], snapshot["stream"]) == ("trending", "trending")
    await subscribe(tab, f"engagement/{tweet.pk}")
    counters = await tab.receive_json_from()
    assert (counters["type"], counters["stream"]) == ("engagement_update", f"engagement/{tweet.pk}")
    assert counters["data"]["tweet_id"] == str(tweet.pk)
    await tab.disconnect()


async def test_each_refusal_carries_the_single_stream_close_code_and_the_connection_carries_on(alice, bob):
    tab, _ = await welcomed()
    assert await refused(tab, f"notifications/{alice.pk}") == 4401
    assert await refused(tab, f"feed/{alice.pk}") == 4401
    mine, _ = await welcomed(alice)
    assert await refused(mine, f"notifications/{bob.pk}") == 4403
    for name in ["nope", "engagement/007", "engagement/987654321", "trending/1", "engagement/", "feed/-1"]:
        assert await refused(mine, name) == 4404, name
    await subscribe(mine, "trending")
    await mine.receive_json_from()
    await still_open(mine)
    await still_open(tab)
    await tab.disconnect()
    await mine.disconnect()


async def test_over_the_cap_is_refused_with_4429(alice, bob):
    tweets = [await post(bob, f"tweet {n}") for n in range(3)]
    with override_settings(REALTIME_MAX_SUBSCRIPTIONS=2):
        tab, _ = await welcomed(alice)
        for tweet in tweets[:2]:
            await subscribe(tab, f"engagement/{tweet.pk}")
            await tab.receive_json_from()
        assert await refused(tab, f"engagement/{tweets[2].pk}") == 4429
        await tab.send_json_to({"type": "unsubscribe", "stream": f"engagement/{tweets[0].pk}"})
        assert (await tab.receive_json_from())["type"] == "unsubscribed"
        await subscribe(tab, f"engagement/{tweets[2].pk}")
    await tab.disconnect()


async def test_subscribing_too_fast_is_refused_with_4429_and_the_budget_is_not_the_messages(alice):
    with override_settings(REALTIME_SUBSCRIBES_PER_SECOND=0.01, REALTIME_SUBSCRIBES_BURST=3):
        tab, _ = await welcomed(alice)
        for _ in range(3):
            # A refused subscribe spends the budget as much as a granted one.
            await tab.send_json_to({"type": "subscribe", "stream": "nope"})
            assert (await tab.receive_json_from())["data"]["code"] == 4404
        assert await refused(tab, "trending") == 4429
    # The messages' budget is untouched: pings still answered.
    await still_open(tab)
    await tab.disconnect()


async def test_subscribing_again_changes_nothing(alice):
    tab, _ = await welcomed(alice)
    await subscribe(tab, "trending")
    await tab.receive_json_from()
    await subscribe(tab, "trending")
    assert await tab.receive_nothing(timeout=0.2)
    await tab.disconnect()


async def test_resume_replays_per_subscription_then_live_without_duplicates(alice, bob):
    seen, *missed = await notify(alice, bob, 3)
    tab, _ = await welcomed(alice)
    await subscribe(tab, f"notifications/{alice.pk}", since=seen)
    replayed = [await tab.receive_json_from() for _ in missed]
    assert [(m["type"], m["stream"], m["data"]["notification_id"]) for m in replayed] == [
        ("notification", f"notifications/{alice.pk}", i) for i in missed
    ]
    [live] = await notify(alice, bob)
    message = await tab.receive_json_from()
    assert (message["stream"], message["data"]["notification_id"]) == (f"notifications/{alice.pk}", live)
    assert await tab.receive_nothing(timeout=0.2)
    await tab.disconnect()


async def test_an_invalid_since_is_an_error_naming_the_stream_and_the_subscription_stands(alice, bob):
    tab, _ = await welcomed(alice)
    await subscribe(tab, f"notifications/{alice.pk}", since="abc")
    error = await tab.receive_json_from()
    assert (error["type"], error["stream"], error["data"]["code"]) == (
        "error",
        f"notifications/{alice.pk}",
        "invalid_since",
    )
    [live] = await notify(alice, bob)
    assert (await tab.receive_json_from())["data"]["notification_id"] == live
    await tab.disconnect()


async def test_after_unsubscribed_nothing_of_that_stream_arrives(alice, bob):
    tab, _ = await welcomed(alice)
    await subscribe(tab, f"notifications/{alice.pk}")
    await tab.send_json_to({"type": "unsubscribe", "stream": f"notifications/{alice.pk}"})
    reply = await tab.receive_json_from()
    assert (reply["type"], reply["stream"], reply["data"]) == (
        "unsubscribed",
        f"notifications/{alice.pk}",
        {},
    )
    await notify(alice, bob)
    assert await tab.receive_nothing(timeout=0.3)
    # Unsubscribing from a stream not held is answered all the same.
    await tab.send_json_to({"type": "unsubscribe", "stream": "trending"})
    assert (await tab.receive_json_from())["type"] == "unsubscribed"
    await tab.disconnect()


async def test_a_broadcast_reaches_only_the_stream_it_was_sent_to(alice, bob):
    watched, other = await post(bob, "watched"), await post(bob, "other")
    tab, _ = await welcomed(alice)
    await subscribe(tab, f"engagement/{watched.pk}")
    await tab.receive_json_from()
    await database_sync_to_async(engagement_services.engagement_add)(user=alice, tweet=other, kind="LIKE")
    assert await tab.receive_nothing(timeout=0.3)
    await database_sync_to_async(engagement_services.engagement_add)(user=alice, tweet=watched, kind="LIKE")
    update = await tab.receive_json_from()
    assert (update["stream"], update["data"]["tweet_id"]) == (f"engagement/{watched.pk}", str(watched.pk))
    await tab.disconnect()


async def test_single_stream_and_multiplexed_receivers_get_the_same_text(alice, bob):
    tweet = await post(bob, "shared")
    single = await open_tab(path=f"/ws/engagement/{tweet.pk}")
    await single.receive_json_from()
    tab, _ = await welcomed(alice)
    await subscribe(tab, f"engagement/{tweet.pk}")
    await tab.receive_json_from()
    await database_sync_to_async(engagement_services.engagement_add)(user=alice, tweet=tweet, kind="LIKE")
    assert await single.receive_from() == await tab.receive_from()
    await single.disconnect()
    await tab.disconnect()


async def test_typing_goes_to_the_other_subscribers_and_needs_the_subscription(alice, bob):
    tweet = await post(bob, "typed on")
    name = f"engagement/{tweet.pk}"
    typist, _ = await welcomed(alice)
    watcher, _ = await welcomed(bob)
    for tab in (typist, watcher):
        await subscribe(tab, name)
        await tab.receive_json_from()
    await typist.send_json_to({"type": "typing", "stream": name, "is_typing": True})
    typing = await watcher.receive_json_from()
    assert (typing["type"], typing["stream"], typing["data"]["user_id"]) == ("typing", name, str(alice.pk))
    assert await typist.receive_nothing(timeout=0.2)
    await typist.send_json_to({"type": "typing", "stream": "engagement/1", "is_typing": True})
    error = await typist.receive_json_from()
    assert (error["type"], error["stream"], error["data"]["code"]) == (
        "error",
        "engagement/1",
        "not_subscribed",
    )
    anonymous, _ = await welcomed()
    await subscribe(anonymous, name)
    await anonymous.receive_json_from()
    await anonymous.send_json_to({"type": "typing", "stream": name, "is_typing": True})
    error = await anonymous.receive_json_from()
    assert (error["stream"], error["data"]["code"]) == (name, "unauthenticated")
    for tab in (typist, watcher, anonymous):
        await tab.disconnect()


@pytest.mark.parametrize(
    "message, code",
    [
        ({"type": "subscribe"}, "invalid_message"),
        ({"type": "subscribe", "stream": 5}, "invalid_message"),
        ({"type": "unsubscribe", "stream": ["trending"]}, "invalid_message"),
        ({"type": "shout", "stream": "trending"}, "not_subscribed"),
        ({"type": "shout"}, "unknown_type"),
    ],
)
async def test_malformed_control_messages_are_error_frames(alice, message, code):
    tab, _ = await welcomed(alice)
    await tab.send_json_to(message)
    error = await tab.receive_json_from()
    assert (error["type"], error["data"]["code"]) == ("error", code)
    await still_open(tab)
    await tab.disconnect()


async def test_stats_count_a_tab_once_as_a_user_connection_while_it_holds_a_stream_of_its_user(alice):
    before = registry.snapshot()
    tab, _ = await welcomed(alice)
    await subscribe(tab, "trending")
    await tab.receive_json_from()
    assert registry.snapshot()["global_connections"] == before["global_connections"] + 1
    await subscribe(tab, f"feed/{alice.pk}")
    await subscribe(tab, f"notifications/{alice.pk}")
    now = registry.snapshot()
    assert now["total_user_connections"] == before["total_user_connections"] + 1
    assert now["global_connections"] == before["global_connections"]
    assert now["total_connections"] == before["total_connections"] + 1
    # Online for the feed's fan-out, as a /ws/feed socket would be.
    from realtime_project.realtime.cluster.registry import online_in

    assert alice.pk in online_in([registry.export()], "feed")
    for name in (f"feed/{alice.pk}", f"notifications/{alice.pk}"):
        await tab.send_json_to({"type": "unsubscribe", "stream": name})
        await tab.receive_json_from()
    assert registry.snapshot()["global_connections"] == before["global_connections"] + 1
    assert alice.pk not in online_in([registry.export()], "feed")
    await tab.disconnect()
    assert registry.snapshot() == before


async def test_the_per_user_connection_limit_refuses_the_tab_a_stream_of_its_user(alice):
    with override_settings(REALTIME_MAX_CONNECTIONS_PER_USER=1):
        first, _ = await welcomed(alice)
        await subscribe(first, f"notifications/{alice.pk}")
        second, _ = await welcomed(alice)
        assert await refused(second, f"feed/{alice.pk}") == 4429
        await subscribe(second, "trending")
    await first.disconnect()
    await second.disconnect()


async def test_a_followed_authors_tweet_reaches_the_feed_subscription(alice, bob):
    await database_sync_to_async(feed_services.follow_create)(follower=alice, followee=bob)
    tab, _ = await welcomed(alice)
    await subscribe(tab, f"feed/{alice.pk}")
    tweet = await post(bob, "hello followers")
    update = await tab.receive_json_from()
    assert (update["type"], update["stream"]) == ("feed_update", f"feed/{alice.pk}")
    assert [t["tweet_id"] for t in update["data"]["tweets"]] == [str(tweet.pk)]
    await tab.disconnect()
