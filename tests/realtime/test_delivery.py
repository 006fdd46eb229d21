"""delivery.py's routing: which receivers of a group message are written to
at once, and which are left for their queue.

The receivers here are stand-ins exposing what delivery.py reads of a
consumer (channel_name, backlog, deliver_now); the writing itself runs
against live Daphne processes in tests/e2e (test_slow_client, test_soak).
"""

import asyncio
import threading

import pytest

from realtime_project.realtime import delivery

pytestmark = pytest.mark.asyncio

EVENT = {"type": "stream.event", "kind": "notification", "text": '{"type": "notification"}'}


class Receiver:
    def __init__(self, name: str):
        self.channel_name = name
        self.backlog = 0
        self.written: list[str] = []

    def deliver_now(self, event, frames) -> bool:
        self.written.append(event["text"])
        return True


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(name: str, *, ready: bool = True) -> Receiver:
        receiver = Receiver(name)
        delivery.track(receiver)
        if ready:
            delivery.ready(receiver)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        delivery.forget(receiver)


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

    receiver.backlog -= 1  # the consumer handled its queued message
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
    delivery.forget(receiver)

    assert delivery.deliver(["a"], EVENT) == ["a"]
    assert receiver.written == []


async def _deliver(channels):
    return delivery.deliver(channels, EVENT)
