"""The small per-connection queue that stands in for asyncio.Queue (inbox.py)."""

import asyncio

import pytest

from realtime_project.realtime.inbox import Inbox, wait_for_any

pytestmark = pytest.mark.asyncio


async def test_items_come_out_in_the_order_they_went_in():
    inbox = Inbox()
    for item in range(5):
        inbox.put_nowait(item)
    assert inbox.qsize() == 5
    assert [await inbox.get() for _ in range(5)] == [0, 1, 2, 3, 4]
    assert inbox.empty()


async def test_a_waiting_get_wakes_when_an_item_arrives():
    inbox = Inbox()
    getter = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not getter.done()
    inbox.put_nowait("hello")
    assert await asyncio.wait_for(getter, 1) == "hello"


async def test_several_getters_each_get_one_item_in_arrival_order():
    inbox = Inbox()
    getters = [asyncio.create_task(inbox.get()) for _ in range(3)]
    await asyncio.sleep(0)
    for item in "abc":
        inbox.put_nowait(item)
    assert await asyncio.wait_for(asyncio.gather(*getters), 1) == ["a", "b", "c"]


async def test_a_getter_cancelled_after_being_woken_passes_the_item_on():
    inbox = Inbox()
    first = asyncio.create_task(inbox.get())
    second = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait("only")
    first.cancel()  # woken, but cancelled before it could take the item
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await asyncio.wait_for(second, 1) == "only"


async def test_a_cancelled_getter_leaves_nothing_behind():
    inbox = Inbox()
    getter = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    getter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await getter
    assert inbox._getters is None
    inbox.put_nowait("kept")
    assert inbox.get_nowait() == "kept"


async def test_a_full_inbox_refuses_more_and_an_empty_one_has_nothing_to_give():
    inbox = Inbox(maxsize=2)
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert inbox.full()
    with pytest.raises(asyncio.QueueFull):
        inbox.put_nowait(3)
    inbox.get_nowait()
    inbox.get_nowait()
    with pytest.raises(asyncio.QueueEmpty):
        inbox.get_nowait()


async def test_the_oldest_item_is_readable_for_expiry_as_in_asyncio_queue():
    # Channels' in-memory layer expires messages by peeking at queue._queue[0].
    inbox = Inbox()
    assert not inbox._queue
    inbox.put_nowait((1.0, "old"))
    inbox.put_nowait((2.0, "new"))
    assert inbox._queue[0] == (1.0, "old")


async def test_waiting_on_two_inboxes_returns_when_either_gets_an_item_and_leaves_it_there():
    client, layer = Inbox(), Inbox()
    waiting = asyncio.create_task(wait_for_any(client, layer))
    await asyncio.sleep(0)
    assert not waiting.done()
    layer.put_nowait("from the layer")
    await asyncio.wait_for(waiting, 1)
    assert layer.get_nowait() == "from the layer"
    assert client._getters is None and layer._getters is None


async def test_waiting_on_inboxes_that_already_hold_items_returns_at_once():
    client, layer = Inbox(), Inbox()
    client.put_nowait("early")
    await asyncio.wait_for(wait_for_any(client, layer), 1)
    assert client.get_nowait() == "early"


async def test_a_cancelled_wait_on_two_inboxes_leaves_nothing_behind():
    client, layer = Inbox(), Inbox()
    waiting = asyncio.create_task(wait_for_any(client, layer))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert client._getters is None and layer._getters is None


async def test_a_wait_cancelled_after_being_woken_passes_the_item_on():
    client, layer = Inbox(), Inbox()
    waiting = asyncio.create_task(wait_for_any(client, layer))
    other = asyncio.create_task(client.get())
    await asyncio.sleep(0)
    client.put_nowait("only")
    waiting.cancel()  # woken first, but cancelled before its loop took the item
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await asyncio.wait_for(other, 1) == "only"
