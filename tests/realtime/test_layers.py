import asyncio

import pytest
import redis

from realtime_project.realtime.inbox import wait_for_any
from realtime_project.realtime.layers import redis_pubsub
from realtime_project.realtime.layers.inmemory import FanOutInMemoryChannelLayer
from realtime_project.realtime.layers.redis_pubsub import FanOutRedisPubSubChannelLayer

pytestmark = pytest.mark.asyncio


async def test_group_send_reaches_each_member_with_its_own_copy():
    layer = FanOutInMemoryChannelLayer()
    first, second, outsider = [await layer.new_channel() for _ in range(3)]
    for channel in (first, second):
        await layer.group_add("feed.user.1", channel)
    await layer.group_send("feed.user.1", {"type": "stream.event", "text": "hi"})
    one, two = await layer.receive(first), await layer.receive(second)
    assert one == two == {"type": "stream.event", "text": "hi"}
    one["text"] = "changed"
    assert two["text"] == "hi"
    assert outsider not in layer.channels


async def test_full_receiver_misses_the_message_and_others_still_get_it():
    layer = FanOutInMemoryChannelLayer(capacity=1)
    slow, fast = await layer.new_channel(), await layer.new_channel()
    for channel in (slow, fast):
        await layer.group_add("g", channel)
    await layer.group_send("g", {"type": "a"})
    assert await layer.receive(fast) == {"type": "a"}
    await layer.group_send("g", {"type": "b"})
    assert await layer.receive(fast) == {"type": "b"}
    assert await layer.receive(slow) == {"type": "a"}


async def test_discarded_channel_gets_nothing_more():
    layer = FanOutInMemoryChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.group_discard("g", channel)
    await layer.group_send("g", {"type": "a"})
    assert channel not in layer.channels


async def test_one_message_to_many_groups_reaches_each_member_and_no_one_else(any_layer):
    # A tweet to every online follower's feed: one call (pipelined publishes
    # through Redis, one pass in memory) must arrive like one group_send per group.
    layer = any_layer
    channels = [await layer.new_channel() for _ in range(3)]
    for number, channel in enumerate(channels):
        await layer.group_add(f"feed.user.{number}", channel)
    outsider = await layer.new_channel()
    await layer.group_add("feed.user.99", outsider)
    try:
        await layer.group_send_many(
            [f"feed.user.{number}" for number in range(3)] + ["feed.user.nobody"],
            {"type": "stream.event", "text": "hi"},
        )
        for channel in channels:
            assert await asyncio.wait_for(layer.receive(channel), 2) == {"type": "stream.event", "text": "hi"}
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(layer.receive(outsider), 0.3)
    finally:
        await layer.flush()


async def test_channel_that_lets_a_message_expire_leaves_its_groups():
    layer = FanOutInMemoryChannelLayer(expiry=0.05)
    reader, unread = await layer.new_channel(), await layer.new_channel()
    for channel in (reader, unread):
        await layer.group_add("g", channel)
    await layer.group_send("g", {"type": "a"})
    assert await layer.receive(reader) == {"type": "a"}
    await asyncio.sleep(0.1)
    layer._cleaned_at = 0.0  # due for its once-a-second cleaning
    await layer.group_send("g", {"type": "b"})
    assert unread not in layer.groups["g"] and unread not in layer.channels
    assert await layer.receive(reader) == {"type": "b"}


async def test_group_membership_older_than_group_expiry_ends():
    layer = FanOutInMemoryChannelLayer(group_expiry=2)
    old, new = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("g", old)
    await layer.group_add("g", new)
    layer.groups["g"][old] -= 3  # joined 3 s ago
    layer._cleaned_at = layer._groups_cleaned_at = 0.0
    await layer.group_send("g", {"type": "a"})
    assert list(layer.groups["g"]) == [new]


async def test_consumer_channels_share_one_inbox_and_only_groups_are_subscribed_in_redis(redis_server):
    # One Redis subscription per group and process (and one for messages to
    # many groups at once, one for the loop's inbox), none per connection.
    layer = FanOutRedisPubSubChannelLayer(hosts=[redis_server], prefix="local-test")
    channels = [await layer.new_channel() for _ in range(3)]
    for channel in channels:
        await layer.group_add("watchers", channel)
    try:
        subscribed = redis.Redis.from_url(redis_server).pubsub_channels("local-test*")
        inbox = channels[0][: channels[0].index("!") + 1]
        assert all(channel.startswith(inbox) for channel in channels)
        assert sorted(name.decode() for name in subscribed) == sorted(
            [inbox, "local-test__group__watchers", "local-test__many_groups__"]
        )
        await layer.send(channels[0], {"type": "stream.event", "text": "to you"})
        assert await asyncio.wait_for(layer.receive(channels[0]), 2) == {
            "type": "stream.event",
            "text": "to you",
        }
        await layer.group_send("watchers", {"type": "stream.event", "text": "to all"})
        for channel in channels:
            assert await asyncio.wait_for(layer.receive(channel), 2) == {
                "type": "stream.event",
                "text": "to all",
            }
    finally:
        await layer.flush()


async def test_the_layer_subscribes_over_resp2_unless_its_host_asks_for_another_protocol(redis_server):
    # RESP3 costs a debug string of each message's payload in redis-py 8.
    default = FanOutRedisPubSubChannelLayer(hosts=[redis_server], prefix="resp-default")
    chosen = FanOutRedisPubSubChannelLayer(
        hosts=[{"address": redis_server, "protocol": 3}], prefix="resp-chosen"
    )
    try:
        watchers = {}
        for layer in (default, chosen):
            watchers[layer] = await layer.new_channel()
            await layer.group_add("watchers", watchers[layer])
        subscribers = [
            client for client in redis.Redis.from_url(redis_server).client_list() if client["sub"] != "0"
        ]
        assert sorted(client["resp"] for client in subscribers) == ["2", "3"]
        for layer in (default, chosen):
            await layer.group_send("watchers", {"type": "stream.event", "text": "delivered"})
            assert await asyncio.wait_for(layer.receive(watchers[layer]), 2) == {
                "type": "stream.event",
                "text": "delivered",
            }
    finally:
        for layer in (default, chosen):
            await layer.flush()


async def test_a_message_to_many_groups_reaches_their_members_in_another_process_in_chunks(
    redis_server, monkeypatch
):
    monkeypatch.setattr(redis_pubsub, "MANY_GROUPS_PER_MESSAGE", 2)  # 5 groups: 3 Redis messages
    receiver = FanOutRedisPubSubChannelLayer(hosts=[redis_server])
    sender = FanOutRedisPubSubChannelLayer(hosts=[redis_server])
    members = {}
    for number in range(5):
        members[number] = await receiver.new_channel()
        await receiver.group_add(f"feed.user.{number}", members[number])
    outsider = await receiver.new_channel()
    await receiver.group_add("feed.user.99", outsider)
    try:
        await sender.group_send_many(
            [f"feed.user.{number}" for number in range(5)],
            {"type": "stream.event", "text": "new tweet", "ids": ["7"]},
        )
        for channel in members.values():
            assert await asyncio.wait_for(receiver.receive(channel), 2) == {
                "type": "stream.event",
                "text": "new tweet",
                "ids": ["7"],
            }
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(receiver.receive(outsider), 0.3)
    finally:
        await receiver.flush()
        await sender.flush()


async def test_a_named_channel_received_in_redis_still_gets_sends_from_elsewhere(redis_server):
    # A worker's channel (receive() on a name of its own) is subscribed as before.
    worker = FanOutRedisPubSubChannelLayer(hosts=[redis_server])
    sender = FanOutRedisPubSubChannelLayer(hosts=[redis_server])
    try:
        receiving = asyncio.create_task(worker.receive("thumbnails"))
        for _ in range(50):
            await sender.send("thumbnails", {"type": "make", "id": 7})
            done, _ = await asyncio.wait({receiving}, timeout=0.05)
            if done:
                break
        assert receiving.result() == {"type": "make", "id": 7}
    finally:
        await worker.flush()
        await sender.flush()


async def test_the_first_message_after_a_quiet_spell_wakes_the_idle_receiving_loop(redis_server):
    # With nothing subscribed, channels-redis' receiving loop slept 0.1 s at a
    # time, so the first message to a new subscriber waited up to that long.
    # Ours waits for the next subscription, which wakes it at once.
    layer = FanOutRedisPubSubChannelLayer(hosts=[redis_server])
    publisher = FanOutRedisPubSubChannelLayer(hosts=[redis_server])
    try:
        first = await layer.new_channel()
        await layer.group_add("first", first)
        await publisher.group_send("first", {"type": "stream.event", "text": "one"})
        assert await asyncio.wait_for(layer.receive(first), 2) == {"type": "stream.event", "text": "one"}

        await layer.group_discard("first", first)
        shard = layer._get_layer()._shards[0]
        # The loop's inbox stays subscribed while it has channels; without it
        # (as before the first new_channel) nothing is.
        await shard.unsubscribe(first[: first.index("!") + 1])
        for _ in range(100):  # until the loop has read the unsubscription
            if not shard._pubsub.subscribed and shard._subscribed._waiters:
                break
            await asyncio.sleep(0.02)
        assert not shard._pubsub.subscribed, "nothing is subscribed now"
        assert shard._subscribed._waiters, "the receiving loop waits for a subscription, not a timer"

        second = await layer.new_channel()
        await layer.group_add("second", second)
        await publisher.group_send("second", {"type": "stream.event", "text": "two"})
        assert await asyncio.wait_for(layer.receive(second), 2) == {"type": "stream.event", "text": "two"}
    finally:
        await layer.flush()
        await publisher.flush()


@pytest.fixture(params=["in-memory", "redis"])
def any_layer(request):
    if request.param == "in-memory":
        return FanOutInMemoryChannelLayer()
    return FanOutRedisPubSubChannelLayer(hosts=[request.getfixturevalue("redis_server")])


async def test_a_channel_read_without_waiting_gives_its_messages_in_order_then_none(any_layer):
    channel = await any_layer.new_channel()
    await any_layer.group_add("watchers", channel)
    try:
        assert any_layer.receive_nowait(channel) is None
        waiting = asyncio.create_task(wait_for_any(any_layer.inbox(channel)))
        for number in (1, 2):
            await any_layer.group_send("watchers", {"type": "stream.event", "text": str(number)})
        await asyncio.wait_for(waiting, 2)
        for _ in range(50):  # through Redis, the second may come a moment later
            if any_layer.inbox(channel).qsize() == 2:
                break
            await asyncio.sleep(0.02)
        assert any_layer.receive_nowait(channel) == {"type": "stream.event", "text": "1"}
        assert any_layer.receive_nowait(channel) == {"type": "stream.event", "text": "2"}
        assert any_layer.receive_nowait(channel) is None
    finally:
        await any_layer.flush()


async def test_a_forgotten_channel_keeps_no_queue(any_layer):
    channel = await any_layer.new_channel()
    any_layer.inbox(channel)
    any_layer.forget_channel(channel)
    layer = any_layer._get_layer() if hasattr(any_layer, "_get_layer") else any_layer
    assert channel not in layer.channels
    await any_layer.flush()
