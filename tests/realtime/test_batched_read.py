"""BatchedRead: the subscribers asking for a snapshot while a read is in
progress share the next read, and each is answered with its own key."""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async

from feed import services as feed_services
from realtime_project.asgi import application
from realtime_project.realtime.streams.batched_read import BatchedRead
from tests.communicator import DaphneCommunicator

# The reads run in the streams' database thread, which checks its
# connection before each.
pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


class Reads:
    """A read_many that records each batch and can be held until released."""

    def __init__(self, fail_first=False):
        self.batches: list[set] = []
        self.release = threading.Event()
        self.release.set()
        self.fail_first = fail_first

    def __call__(self, keys: set) -> dict:
        self.batches.append(set(keys))
        self.release.wait(5)
        if self.fail_first and len(self.batches) == 1:
            raise RuntimeError("the database went away")
        return {key: f"value of {key}" for key in keys if key != "missing"}


async def reading_held(reads: Reads) -> tuple[BatchedRead, asyncio.Future]:
    """A loader whose first read (of "a") has started and is held until
    `reads.release` is set; and that first load."""
    reads.release.clear()
    loader = BatchedRead(reads)
    first = asyncio.ensure_future(loader.load("a"))
    while not reads.batches:
        await asyncio.sleep(0.001)
    return loader, first


async def test_a_key_asked_for_when_idle_is_read_at_once_alone():
    reads = Reads()
    loader = BatchedRead(reads)
    assert await loader.load("a") == "value of a"
    assert reads.batches == [{"a"}]


async def test_keys_asked_for_during_a_read_share_the_next_one():
    reads = Reads()
    loader, first = await reading_held(reads)
    waiting = [asyncio.ensure_future(loader.load(key)) for key in ["b", "c", "b", "missing"]]
    await asyncio.sleep(0.01)
    reads.release.set()
    assert await first == "value of a"
    assert await asyncio.gather(*waiting) == ["value of b", "value of c", "value of b", None]
    assert reads.batches == [{"a"}, {"b", "c", "missing"}]


async def test_a_failed_read_fails_its_batch_only():
    reads = Reads(fail_first=True)
    loader, first = await reading_held(reads)
    second = asyncio.ensure_future(loader.load("b"))
    await asyncio.sleep(0.01)
    reads.release.set()
    with pytest.raises(RuntimeError):
        await first
    assert await second == "value of b"
    assert await loader.load("c") == "value of c"


async def test_a_cancelled_load_leaves_the_others_answered():
    reads = Reads()
    loader, first = await reading_held(reads)
    gone, kept = asyncio.ensure_future(loader.load("b")), asyncio.ensure_future(loader.load("b"))
    await asyncio.sleep(0.01)
    gone.cancel()
    reads.release.set()
    assert await first == "value of a"
    assert await kept == "value of b"
    assert gone.cancelled()


async def test_many_tabs_subscribing_to_one_tweet_at_once_each_get_its_counters(alice):
    tweet = await database_sync_to_async(feed_services.tweet_create)(author=alice, content="popular")
    tabs = [DaphneCommunicator(application, "/ws/") for _ in range(30)]
    for tab in tabs:
        assert (await tab.connect())[0]
        assert (await tab.receive_json_from())["type"] == "welcome"
    stream = f"engagement/{tweet.pk}"
    for tab in tabs:
        await tab.send_json_to({"type": "subscribe", "stream": stream})
    await tabs[0].send_json_to({"type": "subscribe", "stream": "engagement/987654321"})
    for tab in tabs:
        assert (await tab.receive_json_from())["type"] == "subscribed"
        snapshot = await tab.receive_json_from()
        assert (snapshot["type"], snapshot["stream"]) == ("engagement_update", stream)
        assert snapshot["data"]["tweet_id"] == str(tweet.pk)
    missing = await tabs[0].receive_json_from()
    assert (missing["type"], missing["data"]["code"]) == ("subscribe_error", 4404)
    for tab in tabs:
        await tab.disconnect()
