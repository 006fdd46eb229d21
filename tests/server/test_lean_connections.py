"""What Daphne and autobahn keep for each open WebSocket, made smaller
(RealtimeWebSocketProtocol and its factory, realtime/server/websocket.py),
with nothing they do changed."""

import pytest
from asgiref.compatibility import is_double_callable
from autobahn.websocket.protocol import PayloadExceededError
from autobahn.websocket.types import ConnectionRequest
from twisted.internet.testing import StringTransport

from realtime_project.realtime.middleware.serverloop import ServerLoopMiddleware
from realtime_project.realtime.server.websocket import (
    HANDSHAKE_LEFTOVERS,
    NO_QUEUED_SENDS,
    RealtimeWebSocketFactory,
    RealtimeWebSocketProtocol,
)
from trending.scheduler import PeriodicRecompute, PeriodicRecomputeApp


def daphne_factory(**options) -> RealtimeWebSocketFactory:
    # As RealtimeServer makes it when Daphne's Server.run asks for one.
    factory = RealtimeWebSocketFactory(None, server="daphne")
    factory.setProtocolOptions(allowNullOrigin=True, **options)
    return factory


def connected_protocol(
    factory: RealtimeWebSocketFactory,
) -> tuple[RealtimeWebSocketProtocol, StringTransport]:
    protocol = factory.buildProtocol(("127.0.0.1", 4000))
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport


def test_a_protocol_reads_the_factory_options_without_a_copy_in_its_own_dict():
    protocol, _ = connected_protocol(daphne_factory(autoPingTimeout=30, openHandshakeTimeout=5))
    assert isinstance(protocol, RealtimeWebSocketProtocol)
    assert [name for name in protocol.CONFIG_ATTRS if name in vars(protocol)] == []
    assert (protocol.autoPingTimeout, protocol.openHandshakeTimeout, protocol.allowNullOrigin) == (
        30,
        5,
        True,
    )


def test_an_option_that_is_a_function_is_called_as_a_function_not_a_method():
    protocol, _ = connected_protocol(daphne_factory())
    # autobahn's default accepts no compression offer: it takes the offers alone.
    assert protocol.perMessageCompressionAccept([]) is None


def test_protocols_built_after_the_options_change_have_the_new_options():
    factory = daphne_factory(autoPingTimeout=30)
    before, _ = connected_protocol(factory)
    factory.setProtocolOptions(autoPingTimeout=7)
    after, _ = connected_protocol(factory)
    assert (before.autoPingTimeout, after.autoPingTimeout) == (30, 7)


def test_protocols_of_two_factories_keep_their_own_options():
    first, _ = connected_protocol(daphne_factory(autoPingTimeout=30))
    second, _ = connected_protocol(daphne_factory(autoPingTimeout=5))
    assert (first.autoPingTimeout, second.autoPingTimeout) == (30, 5)


def test_a_connection_holds_no_send_queue_until_a_send_needs_one():
    protocol, transport = connected_protocol(daphne_factory())
    assert protocol.send_queue is NO_QUEUED_SENDS
    protocol.sendData(b"plain")
    assert transport.value() == b"plain"
    assert protocol.send_queue is NO_QUEUED_SENDS


def test_a_chopped_send_queues_its_rest_in_order():
    protocol, transport = connected_protocol(daphne_factory())
    protocol.sendData(b"abcdef", chopsize=2)
    # The first chunk goes out now, the rest on later reactor turns.
    assert transport.value() == b"ab"
    assert [chunk for chunk, _ in protocol.send_queue] == [b"cd", b"ef"]


class Recorder:
    def __init__(self):
        self.calls = []

    async def __call__(self, scope, receive, send):
        self.calls.append(scope["type"])


@pytest.mark.asyncio
async def test_the_outer_middlewares_hand_on_the_inner_application_without_a_frame_of_their_own():
    inner = Recorder()
    for app in (ServerLoopMiddleware(inner), PeriodicRecomputeApp(inner, PeriodicRecompute())):
        # Servers must still take them as ASGI 3 (single-callable) applications.
        assert not is_double_callable(app)
        await app({"type": "websocket"}, None, None)
    assert inner.calls == ["websocket", "websocket"]


def test_an_open_websocket_keeps_of_its_handshake_only_the_path_daphne_logs_at_close():
    protocol, _ = connected_protocol(daphne_factory())
    # As autobahn and Daphne leave them once the handshake is processed.
    protocol.http_request_data = b"GET /ws/trending?ticket=t HTTP/1.1\r\n..."
    protocol.http_response_data = "HTTP/1.1 101 Switching Protocols\r\n..."
    protocol.http_headers = {"host": "example.org", "upgrade": "websocket"}
    protocol.http_request_params = {"ticket": ["t"]}
    protocol.request = ConnectionRequest(
        "tcp:127.0.0.1:4000",
        protocol.http_headers,
        "example.org",
        "/ws/trending",
        protocol.http_request_params,
        13,
        None,
        [],
        [],
    )
    protocol.forget_handshake()
    assert protocol.request.path == "/ws/trending"
    assert not hasattr(protocol.request, "headers")
    assert [getattr(protocol, name) for name in HANDSHAKE_LEFTOVERS] == [None] * len(HANDSHAKE_LEFTOVERS)


@pytest.mark.parametrize("code", [1012, 1013])
def test_a_server_closing_with_a_come_back_code_sends_that_code(code):
    # autobahn accepts only 1000 and 3000-4999 from an application; a
    # draining server (1012) or one out of descriptors (1013) must still
    # tell its clients to come back.
    protocol, transport = connected_protocol(daphne_factory())
    protocol.state = protocol.STATE_OPEN
    transport.clear()
    protocol.serverClose(code)
    assert transport.value() == b"\x88\x02" + code.to_bytes(2, "big")
    if protocol.closeHandshakeTimeoutCall is not None:  # nothing is to fire after the test
        protocol.closeHandshakeTimeoutCall.cancel()


def test_the_server_may_send_a_message_larger_than_a_client_may():
    factory = daphne_factory(maxMessagePayloadSize=10_000, maxFramePayloadSize=10_000)
    protocol, transport = connected_protocol(factory)
    protocol.maxMessagePayloadSize = protocol.maxFramePayloadSize = 100  # as onConnect bounds a client
    protocol.state = protocol.STATE_OPEN
    protocol.client_addr = ["127.0.0.1", 4000]  # as Daphne's onConnect sets it
    transport.clear()
    protocol.serverSend("x" * 5_000)
    assert transport.value().endswith(b"x" * 5_000)
    assert protocol.maxMessagePayloadSize == 100, "the client's bound holds again"
    with pytest.raises(PayloadExceededError):
        protocol.serverSend("x" * 20_000)
