"""Every channel FanOutRedisPubSubChannelLayer hands out is reachable, as
Channels promises: from its own event loop (with no Redis round trip), from
another loop of the process (async_to_sync in a thread), and from another
process, through one Redis subscription per loop layer, not one per channel.

Against a private redis-server (tests/conftest.py `redis_server`).
"""

import asyncio
import threading

import pytest
import pytest_asyncio
import redis
from asgiref.sync import async_to_sync

from realtime_project.realtime.layers.redis_pubsub import FanOutRedisPubSubChannelLayer

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def layer(redis_server):
    layer = FanOutRedisPubSubChannelLayer(hosts=[redis_server], prefix="contract")
    yield layer
    await layer.flush()


def in_a_thread(function, *args):
    """Run `function` in a thread of its own (so async_to_sync gets an event
    loop of its own); return its result or raise its exception."""
    outcome = {}

    def run():
        try:
            outcome["result"] = function(*args)
        except BaseException as error:  # handed back to the test
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "the thread's send did not return"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


async def test_a_send_from_another_threads_event_loop_reaches_a_new_channel(layer):
    channel = await layer.new_channel()
    await asyncio.to_thread(in_a_thread, async_to_sync(layer.send), channel, {"type": "from.thread", "n": 1})
    assert await asyncio.wait_for(layer.receive(channel), 2) == {"type": "from.thread", "n": 1}


async def test_a_send_from_another_process_reaches_a_new_channel(layer, redis_server):
    channel = await layer.new_channel()
    elsewhere = FanOutRedisPubSubChannelLayer(hosts=[redis_server], prefix="contract")
    try:
        await elsewhere.send(channel, {"type": "from.elsewhere", "data": {"ids": [1, 2]}})
        assert await asyncio.wait_for(layer.receive(channel), 2) == {
            "type": "from.elsewhere",
            "data": {"ids": [1, 2]},
        }
    finally:
        await elsewhere.flush()


async def test_a_send_from_elsewhere_reaches_only_the_channel_it_names(layer, redis_server):
    target, other = await layer.new_channel(), await layer.new_channel()
    elsewhere = FanOutRedisPubSubChannelLayer(hosts=[redis_server], prefix="contract")
    try:
        await elsewhere.send(target, {"type": "for.target"})
        assert await asyncio.wait_for(layer.receive(target), 2) == {"type": "for.target"}
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(layer.receive(other), 0.2)
    finally:
        await elsewhere.flush()


async def test_a_send_from_the_same_loop_stays_in_the_process(layer):
    channel = await layer.new_channel()
    loop_layer = layer._get_layer()

    async def no_publish(*args):
        raise AssertionError("a send within the loop went through Redis")

    for shard in loop_layer._shards:
        shard.publish = no_publish
    await layer.send(channel, {"type": "local"})
    assert layer.receive_nowait(channel) == {"type": "local"}


async def test_new_channels_share_one_redis_subscription_and_groups_have_one_each(layer, redis_server):
    channels = [await layer.new_channel() for _ in range(20)]
    for channel in channels:
        await layer.group_add("watchers", channel)
    subscribed = sorted(
        name.decode() for name in redis.Redis.from_url(redis_server).pubsub_channels("contract*")
    )
    inbox = channels[0][: channels[0].index("!") + 1]
    assert subscribed == sorted([inbox, "contract__group__watchers", "contract__many_groups__"])


async def test_group_send_from_another_process_reaches_every_member_in_one_pass(layer, redis_server):
    channels = [await layer.new_channel() for _ in range(3)]
    for channel in channels:
        await layer.group_add("watchers", channel)
    loop_layer = layer._get_layer()
    passes = []
    deliver = loop_layer.deliver_to_members
    loop_layer.deliver_to_members = lambda members, *args: (
        passes.append(sorted(members)) or deliver(members, *args)
    )
    elsewhere = FanOutRedisPubSubChannelLayer(hosts=[redis_server], prefix="contract")
    try:
        await elsewhere.group_send("watchers", {"type": "stream.event", "text": "to all"})
        for channel in channels:
            assert await asyncio.wait_for(layer.receive(channel), 2) == {
                "type": "stream.event",
                "text": "to all",
            }
        assert passes == [sorted(channels)]
    finally:
        await elsewhere.flush()


async def test_receiving_on_a_channel_of_another_loop_fails_loudly(layer, redis_server):
    elsewhere = FanOutRedisPubSubChannelLayer(hosts=[redis_server], prefix="contract")
    try:
        channel = await elsewhere.new_channel()
        with pytest.raises(RuntimeError, match="another event loop or process"):
            await layer.receive(channel)
    finally:
        await elsewhere.flush()
