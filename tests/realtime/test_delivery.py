"""delivery.py's routing: which receivers of a group message are written to
at once, and which are left for their queue.

The consumers here are stand-ins that register with delivery.py as a
StreamConsumer does (track, ready, handled, forget), with their own path
for a message (`deliver_now`); their socket is a Daphne-like protocol over
a transport that records what is written. Writing to real sockets runs against live Daphne
processes in tests/e2e (test_slow_client, test_soak) and in
test_direct_writes.py.
"""

import asyncio
import json
import threading
from contextlib import contextmanager

import pytest

from realtime_project.realtime.layers import delivery

pytestmark = pytest.mark.asyncio

EVENT = {"type": "stream.event", "kind": "notification", "text": '{"type": "notification"}'}


class Transport:
    def __init__(self):
        self.frames: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.frames.append(data)


class Socket:
    """What delivery reads of Daphne's WebSocket protocol."""

    STATE_OPEN = 3
    state = STATE_OPEN
    _perMessageCompress = None

    def __init__(self):
        self.transport = Transport()


class Receiver:
    def __init__(self, name: str, replayed: frozenset[str] = frozenset()):
        self.channel_name = name
        self.replayed_ids = replayed
        self.socket = Socket()
        self.handled: list[str] = []  # what went through the consumer's own path
        self.receiver: delivery.Receiver | None = None

    def deliver_now(self, event, frames) -> bool:
        self.handled.append(event["text"])
        return True

    async def catch_up(self) -> bool:
        return True

    @property
    def written(self) -> list[str]:
        """Every text this receiver was sent, either way (small frames only)."""
        return [frame[2:].decode() for frame in self.socket.transport.frames] + self.handled


@contextmanager
def registered():
    """Register receivers with delivery.py as consumers do (track, then
    ready); forget them all at the end."""
    made: list = []

    def register(consumer, *, ready: bool = True):
        consumer.receiver = delivery.track(
            consumer.channel_name, write=consumer.deliver_now, catch_up=consumer.catch_up
        )
        if ready:
            delivery.ready(consumer.receiver, consumer.socket, replayed=bool(consumer.replayed_ids))
        made.append(consumer)
        return consumer

    try:
        yield register
    finally:
        for consumer in made:
            delivery.forget(consumer.receiver)


@pytest.fixture
def receivers():
    with registered() as register:
        yield lambda name, *, ready=True, replayed=frozenset(): register(
            Receiver(name, replayed), ready=ready
        )


async def test_ready_receivers_are_written_at_once_and_the_rest_left_to_queue(receivers):
    ready, connecting = receivers("a"), receivers("b", ready=False)

    left = delivery.deliver(["a", "b", "elsewhere"], EVENT)

    assert ready.written == [EVENT["text"]]
    assert connecting.written == []
    assert left == ["b", "elsewhere"]


async def test_a_receiver_with_queued_messages_gets_the_next_ones_queued_too(receivers):
    # Written at once, this one would overtake what waits in its queue.
    receiver = receivers("a")
    delivery.note_queued("a")

    assert delivery.deliver(["a"], EVENT) == ["a"]
    assert receiver.written == []

    delivery.handled(receiver.receiver)  # the consumer handled its queued message
    assert delivery.deliver(["a"], EVENT) == []
    assert receiver.written == [EVENT["text"]]


async def test_other_message_types_always_go_through_the_queue(receivers):
    receiver = receivers("a")

    assert delivery.deliver(["a"], {"type": "typing.expire"}) == ["a"]
    assert receiver.written == []


async def test_nothing_is_written_from_another_event_loop(receivers):
    # A layer called from a thread with a loop of its own must not touch
    # sockets that belong to the server's loop.
    receiver = receivers("a")
    left: list = []
    thread = threading.Thread(target=lambda: left.extend(asyncio.run(_deliver(["a"]))))
    thread.start()
    thread.join(5)

    assert left == ["a"]
    assert receiver.written == []


async def test_forgotten_receivers_are_not_written_to(receivers):
    receiver = receivers("a")
    delivery.forget(receiver.receiver)

    assert delivery.deliver(["a"], EVENT) == ["a"]
    assert receiver.written == []


async def _deliver(channels):
    return delivery.deliver(channels, EVENT)


async def test_a_message_of_rows_goes_through_the_consumer_when_its_replay_sent_rows(receivers):
    # The consumer drops the rows its replay already sent (consumer.outgoing_text).
    fresh, resumed = receivers("a"), receivers("b", replayed=frozenset({"7"}))

    assert delivery.deliver(["a", "b"], {**EVENT, "ids": ["7"]}) == []

    assert fresh.written == [EVENT["text"]] and fresh.handled == []
    assert resumed.handled == [EVENT["text"]]


async def test_the_excluded_sender_goes_through_its_consumer(receivers):
    # The consumer's own path leaves out the sender of a typing indicator.
    typist, watcher = receivers("a"), receivers("c")

    delivery.deliver(["a", "c"], {**EVENT, "exclude": "a"})

    assert typist.handled == [EVENT["text"]] and typist.socket.transport.frames == []
    assert watcher.written == [EVENT["text"]] and watcher.handled == []


async def test_a_receiver_tracked_again_on_its_channel_is_not_forgotten_by_the_old_handle(receivers):
    # forget() of a handle that is no longer the channel's must not drop
    # the one that replaced it.
    first = receivers("a")
    second = receivers("a")

    delivery.forget(first.receiver)
    delivery.deliver(["a"], EVENT)

    assert second.written == [EVENT["text"]]


async def test_a_broadcast_is_framed_once_for_all_its_receivers(receivers):
    first, second = receivers("a"), receivers("b")

    delivery.deliver(["a", "b"], EVENT)

    assert first.socket.transport.frames[0] is second.socket.transport.frames[0]


@pytest.mark.parametrize("exclude", [None, "c", "other"])
@pytest.mark.parametrize("replayed", [frozenset(), frozenset({"7"})])
@pytest.mark.parametrize("ids", [None, ["7"], ["7", "8"], ["8"]])
@pytest.mark.parametrize("endpoint", ["single-stream", "multiplexed"])
async def test_what_a_consumer_is_sent_in_one_pass_is_what_it_would_send_itself(
    exclude, replayed, ids, endpoint
):
    # delivery.deliver decides inline who takes the text as it is; a real
    # consumer's outgoing_text is the reference.
    from notifications.streams import NOTIFICATIONS
    from realtime_project.realtime import protocol
    from realtime_project.realtime.consumers import MultiplexConsumer, StreamConsumer
    from realtime_project.realtime.streams import Catalog, Subscription

    subscription = Subscription(NOTIFICATIONS, 7, user=None, channel="c")
    subscription.replayed_ids = replayed
    if endpoint == "single-stream":
        consumer = StreamConsumer(stream=NOTIFICATIONS)
        consumer.subscription = subscription
    else:
        consumer = MultiplexConsumer(catalog=Catalog([NOTIFICATIONS]))
        consumer.subscriptions[subscription.name] = subscription
    consumer.channel_name = "c"
    consumer.is_open = True
    consumer.socket = Socket()
    event = {
        "type": "stream.event",
        "kind": "notification",
        "stream": "notifications/7",
        "text": protocol.encode("notification", {"n": 1}, "notifications/7"),
    }
    if exclude:
        event["exclude"] = exclude
    if ids:
        event["ids"] = ids
    receiver = delivery.track("c", write=consumer.deliver_now, catch_up=consumer.catch_up)
    delivery.ready(receiver, consumer.socket, replayed=bool(replayed))
    try:
        delivery.deliver(["c"], event)
    finally:
        delivery.forget(receiver)

    expected = consumer.outgoing_text(event)
    sent = [frame[2:].decode() for frame in consumer.socket.transport.frames]
    # A text re-encoded without replayed rows has a timestamp of its own.
    assert [_content(text) for text in sent] == ([] if expected is None else [_content(expected)])


def _content(text: str) -> dict:
    return {key: value for key, value in json.loads(text).items() if key != "timestamp"}
