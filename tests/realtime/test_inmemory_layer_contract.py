"""The channel layer contract, run on Channels' InMemoryChannelLayer and on
ours (FanOutInMemoryChannelLayer): a difference shows up as one failing side.

Written from the Channels layer specification (channels.readthedocs.io,
"Channel Layer Specification") and stock behaviour. Where ours differs on
purpose, the reason is in DELIBERATE_DIFFERENCES and the test asserts our
behaviour for it explicitly.
"""

import asyncio

import pytest
from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

from realtime_project.realtime.layers.inmemory import FanOutInMemoryChannelLayer

pytestmark = pytest.mark.asyncio

DELIBERATE_DIFFERENCES = {
    "test_group_membership_ends_after_group_expiry": (
        "Channels walks every group membership on each group_send and receive; "
        "ours walks them at most every max(1 s, group_expiry / 100), so a "
        "membership may outlive group_expiry by up to that long (a walk over "
        "every connection per broadcast is O(N^2) for N sockets)."
    ),
}

# How long a receive() that must get nothing is given.
NOTHING_TIMEOUT = 0.2


@pytest.fixture(params=[InMemoryChannelLayer, FanOutInMemoryChannelLayer], ids=["stock", "ours"])
def make_layer(request):
    return request.param


@pytest.fixture
def differs(request, make_layer) -> bool:
    """Whether this test pins a deliberate difference, on our side."""
    return make_layer is FanOutInMemoryChannelLayer and request.function.__name__ in DELIBERATE_DIFFERENCES


async def receives_nothing(layer, channel) -> bool:
    try:
        await asyncio.wait_for(layer.receive(channel), NOTHING_TIMEOUT)
    except TimeoutError:
        return True
    return False


async def test_a_sent_message_is_received(make_layer):
    layer = make_layer()
    await layer.send("test-channel-1", {"type": "test.message", "text": "Ahoy-hoy!"})
    assert await layer.receive("test-channel-1") == {"type": "test.message", "text": "Ahoy-hoy!"}


async def test_messages_are_received_in_the_order_sent(make_layer):
    layer = make_layer()
    for number in range(3):
        await layer.send("ordered", {"type": "n", "n": number})
    assert [(await layer.receive("ordered"))["n"] for _ in range(3)] == [0, 1, 2]


async def test_a_receive_waits_for_the_next_send(make_layer):
    layer = make_layer()
    waiting = asyncio.create_task(layer.receive("later"))
    await asyncio.sleep(0)
    await layer.send("later", {"type": "late"})
    assert await asyncio.wait_for(waiting, 1) == {"type": "late"}


async def test_an_expired_message_is_not_delivered(make_layer):
    layer = make_layer(expiry=0.1)
    await layer.send("expiring", {"type": "test.message"})
    await asyncio.sleep(0.5)
    assert await receives_nothing(layer, "expiring")


async def test_of_several_queued_messages_only_the_unexpired_arrive(make_layer):
    layer = make_layer(expiry=0.2)
    await layer.send("mixed", {"type": "old", "n": 1})
    await layer.send("mixed", {"type": "old", "n": 2})
    await asyncio.sleep(0.3)
    await layer.send("mixed", {"type": "new", "n": 3})
    assert await layer.receive("mixed") == {"type": "new", "n": 3}
    assert await receives_nothing(layer, "mixed")


async def test_a_channel_that_lets_a_message_expire_leaves_its_groups(make_layer):
    layer = make_layer(expiry=0.1)
    await layer.group_add("watchers", "unread")
    await layer.group_send("watchers", {"type": "missed"})
    await asyncio.sleep(0.2)
    assert await receives_nothing(layer, "unread")
    assert "unread" not in layer.groups.get("watchers", {})


async def test_each_receiver_gets_its_own_copy_of_a_sent_message(make_layer):
    layer = make_layer()
    message = {"type": "nested", "data": {"ids": [1, 2]}}
    await layer.send("copied", message)
    message["data"]["ids"].append(3)
    received = await layer.receive("copied")
    assert received == {"type": "nested", "data": {"ids": [1, 2]}}
    assert received["data"] is not message["data"]


async def test_group_members_do_not_share_a_message(make_layer):
    layer = make_layer()
    for channel in ("first", "second"):
        await layer.group_add("readers", channel)
    message = {"type": "nested", "data": {"ids": [1]}}
    await layer.group_send("readers", message)
    first, second = await layer.receive("first"), await layer.receive("second")
    first["data"]["ids"].append(2)
    assert second == message == {"type": "nested", "data": {"ids": [1]}}


async def test_a_full_channel_refuses_a_send(make_layer):
    layer = make_layer(capacity=2)
    await layer.send("small", {"type": "one"})
    await layer.send("small", {"type": "two"})
    with pytest.raises(ChannelFull):
        await layer.send("small", {"type": "three"})
    assert await layer.receive("small") == {"type": "one"}
    await layer.send("small", {"type": "three"})


async def test_a_full_member_misses_a_group_message_and_the_others_get_it(make_layer):
    layer = make_layer(capacity=1)
    for channel in ("full", "free"):
        await layer.group_add("members", channel)
    await layer.send("full", {"type": "waiting"})
    await layer.group_send("members", {"type": "group"})
    assert await layer.receive("free") == {"type": "group"}
    assert await layer.receive("full") == {"type": "waiting"}
    assert await receives_nothing(layer, "full")


async def test_group_send_reaches_every_member_and_no_one_else(make_layer):
    layer = make_layer()
    for channel in ("one", "two"):
        await layer.group_add("members", channel)
    await layer.group_add("others", "outsider")
    await layer.group_send("members", {"type": "hello"})
    assert await layer.receive("one") == {"type": "hello"}
    assert await layer.receive("two") == {"type": "hello"}
    assert await receives_nothing(layer, "outsider")


async def test_a_discarded_member_gets_no_more_group_messages(make_layer):
    layer = make_layer()
    for channel in ("stays", "leaves"):
        await layer.group_add("members", channel)
    await layer.group_discard("members", "leaves")
    await layer.group_discard("members", "never-joined")  # no error
    await layer.group_discard("no-such-group", "leaves")  # no error
    await layer.group_send("members", {"type": "after"})
    assert await layer.receive("stays") == {"type": "after"}
    assert await receives_nothing(layer, "leaves")


async def test_a_group_send_to_an_empty_group_does_nothing(make_layer):
    layer = make_layer()
    await layer.group_send("empty", {"type": "lost"})
    assert layer.channels == {}


async def test_group_membership_ends_after_group_expiry(make_layer, differs):
    layer = make_layer(group_expiry=2)
    for channel in ("old", "new"):
        await layer.group_add("members", channel)
    layer.groups["members"]["old"] -= 5  # joined 5 s ago: past group_expiry
    await layer.group_send("members", {"type": "first"})
    assert await layer.receive("new") == {"type": "first"}
    if differs:
        # Not yet walked: the old membership is still delivered to...
        assert await layer.receive("old") == {"type": "first"}
        layer._cleaned_at = layer._groups_cleaned_at = 0.0  # ...until its walk is due.
        await layer.group_send("members", {"type": "second"})
        assert await layer.receive("new") == {"type": "second"}
    assert await receives_nothing(layer, "old")
    assert list(layer.groups["members"]) == ["new"]


@pytest.mark.parametrize(
    "name",
    ["", "has space", "has:colon", "ünicode", "x" * 100, 7, None],
    ids=["empty", "space", "colon", "unicode", "too-long", "int", "none"],
)
async def test_invalid_channel_names_are_refused(make_layer, name):
    layer = make_layer()
    with pytest.raises(TypeError):
        await layer.send(name, {"type": "x"})
    with pytest.raises(TypeError):
        await layer.receive(name)
    with pytest.raises(TypeError):
        await layer.group_add("valid", name)
    with pytest.raises(TypeError):
        await layer.group_discard("valid", name)


@pytest.mark.parametrize(
    "name",
    ["", "has space", "with!bang", "x" * 100, 7],
    ids=["empty", "space", "bang", "too-long", "int"],
)
async def test_invalid_group_names_are_refused(make_layer, name):
    layer = make_layer()
    with pytest.raises(TypeError):
        await layer.group_add(name, "valid")
    with pytest.raises(TypeError):
        await layer.group_discard(name, "valid")
    with pytest.raises(TypeError):
        await layer.group_send(name, {"type": "x"})


async def test_a_message_that_is_not_a_dict_is_refused(make_layer):
    layer = make_layer()
    await layer.group_add("members", "member")
    with pytest.raises(AssertionError):
        await layer.send("valid", ["not", "a", "dict"])
    with pytest.raises(AssertionError):
        await layer.group_send("members", "not a dict")


async def test_a_message_naming_asgi_channel_is_refused_but_such_a_channel_name_is_not(make_layer):
    # Channels refuses the reserved key in a message (send, and so a
    # group_send with a member); the name itself is only [A-Za-z0-9-_.].
    layer = make_layer()
    with pytest.raises(AssertionError):
        await layer.send("valid", {"type": "x", "__asgi_channel__": "valid"})
    await layer.group_add("members", "member")
    with pytest.raises(AssertionError):
        await layer.group_send("members", {"type": "x", "__asgi_channel__": "member"})
    await layer.send("my__asgi_channel__name", {"type": "fine"})
    assert await layer.receive("my__asgi_channel__name") == {"type": "fine"}


async def test_a_process_specific_channel_name_is_usable(make_layer):
    layer = make_layer()
    await layer.send("specific.process!abc", {"type": "specific"})
    assert await layer.receive("specific.process!abc") == {"type": "specific"}


async def test_new_channel_names_are_valid_and_unique(make_layer):
    layer = make_layer()
    names = {await layer.new_channel() for _ in range(1000)}
    assert len(names) == 1000
    for name in names:
        assert layer.require_valid_channel_name(name)
    custom = await layer.new_channel(prefix="worker")
    assert custom.startswith("worker")
    await layer.send(custom, {"type": "to.new"})
    assert await layer.receive(custom) == {"type": "to.new"}


async def test_flush_drops_every_message_and_membership(make_layer):
    layer = make_layer()
    await layer.send("queued", {"type": "gone"})
    await layer.group_add("members", "member")
    await layer.flush()
    assert await receives_nothing(layer, "queued")
    await layer.group_send("members", {"type": "to.nobody"})
    assert await receives_nothing(layer, "member")
    await layer.send("queued", {"type": "after.flush"})
    assert await layer.receive("queued") == {"type": "after.flush"}
