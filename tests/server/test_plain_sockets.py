"""Broadcasts written to "plain" sockets with no check per receiver
(server/direct.watch_plain, delivery._plain): a socket is held plain only
while a frame may go to it as it is, and whatever ends that takes it out
before the next frame. On real loopback TCP connections held by Twisted
transports."""

import pytest
from prometheus_client import REGISTRY
from twisted.python.failure import Failure

from realtime_project.realtime.layers import delivery
from realtime_project.realtime.server.direct import unwatch, watch_plain
from realtime_project.realtime.server.websocket import RealtimeWebSocketProtocol
from tests.realtime import test_delivery

from .test_direct_writes import WebSocket, read_all, tcp_connection

EVENT = {"type": "stream.event", "kind": "engagement_update", "text": '{"type": "engagement_update"}'}


@pytest.fixture
def plain_table():
    table: dict = {}
    made = []

    def open_websocket():
        transport, client, reactor = tcp_connection()
        made.append(transport)
        return WebSocket(transport), client, reactor

    yield table, open_websocket
    for transport in made:
        unwatch(transport)


def test_an_open_websocket_with_nothing_buffered_is_held_plain_until_its_transport_buffers(plain_table):
    table, open_websocket = plain_table
    websocket, client, reactor = open_websocket()

    assert watch_plain(websocket, table, "a") is True
    assert table["a"] is websocket.transport.socket

    websocket.transport.write(b"B" * 400_000)  # more than the socket takes
    assert "a" not in table


@pytest.mark.parametrize(
    "end",
    [
        lambda transport: transport.loseConnection(),
        lambda transport: transport.abortConnection(),
        lambda transport: transport.loseWriteConnection(),
        lambda transport: transport.connectionLost(Failure(ConnectionError("lost"))),
    ],
    ids=["close", "abort", "half-close", "lost"],
)
def test_a_transport_that_closes_or_is_lost_is_no_longer_plain(plain_table, end):
    table, open_websocket = plain_table
    websocket, client, reactor = open_websocket()
    watch_plain(websocket, table, "a")

    end(websocket.transport)

    assert "a" not in table


def test_a_closing_websocket_or_one_with_data_buffered_is_not_made_plain(plain_table):
    table, open_websocket = plain_table
    closing, _, _ = open_websocket()
    closing.state = closing.STATE_CLOSING
    buffered, _, _ = open_websocket()
    buffered.transport.write(b"B" * 400_000)

    assert watch_plain(closing, table, "closing") is False
    assert watch_plain(buffered, table, "buffered") is False
    assert table == {}


class Traffic:
    outgoingOctetsWireLevel = 0


class OpenWebSocket(WebSocket):
    """What RealtimeWebSocketProtocol.sendData reads of its protocol."""

    send_queue = ()
    direct_writes = True

    def __init__(self, transport):
        super().__init__(transport)
        self.trafficStats = Traffic()


def test_a_close_frame_ends_plain_writes_to_its_socket(plain_table):
    table, open_websocket = plain_table
    websocket, client, reactor = open_websocket()
    websocket = OpenWebSocket(websocket.transport)
    watch_plain(websocket, table, "a")

    RealtimeWebSocketProtocol.sendData(websocket, b"\x81\x02hi")  # a text frame: still plain
    assert "a" in table
    RealtimeWebSocketProtocol.sendData(websocket, b"\x88\x02\x03\xe8")  # close, 1000
    assert "a" not in table, "a broadcast could follow the close frame"
    assert read_all(client, websocket.transport, reactor, 8) == b"\x81\x02hi\x88\x02\x03\xe8"


# --- delivery.deliver over plain sockets --------------------------------------


class Receiver(test_delivery.Receiver):
    """A consumer as delivery reads it, over a real Twisted transport."""

    def __init__(self, name: str, websocket, client, reactor, replayed: frozenset):
        super().__init__(name, replayed)
        self.socket, self.client, self.reactor = websocket, client, reactor


@pytest.fixture
def receivers(plain_table):
    _, open_websocket = plain_table
    with test_delivery.registered() as register:
        yield lambda name, *, replayed=frozenset(): register(Receiver(name, *open_websocket(), replayed))


def event(text: str, **extra) -> dict:
    return {**EVENT, "text": text, **extra}


@pytest.mark.asyncio
async def test_a_ready_consumer_is_written_plain_and_the_excluded_sender_through_its_consumer(receivers):
    watcher, sender = receivers("watcher"), receivers("sender")
    assert set(delivery._plain) >= {"watcher", "sender"}

    assert delivery.deliver(["watcher", "sender"], event('"one"', exclude="sender")) == []

    assert read_all(watcher.client, watcher.socket.transport, watcher.reactor, 7) == b'\x81\x05"one"'
    assert sender.handled == ['"one"'], "the sender's consumer decides what it gets"


@pytest.mark.asyncio
async def test_a_consumer_with_queued_messages_is_not_plain_until_it_has_handled_them(receivers):
    receiver = receivers("a")
    delivery.note_queued("a")
    assert "a" not in delivery._plain

    assert delivery.deliver(["a"], event('"queued behind"')) == ["a"]

    delivery.handled(receiver.receiver)  # the consumer handled its queued message
    assert delivery.deliver(["a"], event('"next"')) == []
    assert "a" in delivery._plain, "plain again once its queue is empty"
    assert read_all(receiver.client, receiver.socket.transport, receiver.reactor, 8) == b'\x81\x06"next"'


@pytest.mark.asyncio
async def test_a_consumer_whose_replay_sent_rows_is_never_plain(receivers):
    receiver = receivers("a", replayed=frozenset({"7"}))
    assert "a" not in delivery._plain

    delivery.deliver(["a"], event('"row 7"', ids=["7"]))
    delivery.deliver(["a"], event('"counts"'))

    assert "a" not in delivery._plain
    assert receiver.handled == ['"row 7"'], "rows go through the consumer, which drops replayed ones"


@pytest.mark.asyncio
async def test_a_frame_the_kernel_takes_only_part_of_is_finished_by_twisted_and_the_next_waits_behind_it(
    receivers,
):
    receiver = receivers("a")
    transport, client, reactor = receiver.socket.transport, receiver.client, receiver.reactor
    big = "x" * 400_000  # more than the socket buffers hold

    delivery.deliver(["a"], event(big))
    assert "a" not in delivery._plain, "Twisted holds the rest: writing past it would cut the frame"
    delivery.deliver(["a"], event('"after"'))

    header = 10  # a 64-bit length
    expected = header + len(big) + 9
    received = read_all(client, transport, reactor, expected)
    assert received[header:-9].decode() == big
    assert received[-9:] == b'\x81\x07"after"'

    delivery.deliver(["a"], event('"drained"'))  # Twisted wrote it all out meanwhile
    assert "a" in delivery._plain


@pytest.mark.asyncio
async def test_a_forgotten_consumer_is_no_longer_written_to(receivers):
    receiver = receivers("a")
    delivery.forget(receiver.receiver)

    assert delivery.deliver(["a"], event('"late"')) == ["a"]
    assert "a" not in delivery._plain
    receiver.client.settimeout(0.2)
    with pytest.raises(OSError):  # a timeout: nothing arrives
        receiver.client.recv(100)


@pytest.mark.asyncio
async def test_the_time_to_write_a_fan_out_is_observed_once_per_message_to_two_or_more_sockets(receivers):
    def written():
        return REGISTRY.get_sample_value("realtime_fanout_write_seconds_count") or 0

    _first, second = receivers("first"), receivers("second")
    before = written()
    assert delivery.deliver(["first", "second"], event('"both"')) == []
    assert written() == before + 1
    assert delivery.deliver(["first"], event('"one"')) == []
    assert written() == before + 1, "a message to one socket is not a fan-out"
    assert read_all(second.client, second.socket.transport, second.reactor, 8) == b'\x81\x06"both"'
