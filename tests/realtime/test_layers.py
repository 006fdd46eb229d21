import pytest

from realtime_project.realtime.layers import FanOutInMemoryChannelLayer

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
