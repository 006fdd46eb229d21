"""The drain of a stopping server (realtime/server/drain.py), in process: the
`reconnect` frame, the HTTP channels that stop keeping alive, the socket
timeout spread per socket, and the upstream code the drain relies on.
Live processes and real clients: tests/e2e/test_drain.py."""

import json
from collections import Counter

import pytest
from twisted.internet.testing import StringTransport
from twisted.web import http

from realtime_project.realtime import protocol
from realtime_project.realtime.server.drain import reconnect_frame
from realtime_project.realtime.server.http import BoundedHTTPChannel
from realtime_project.realtime.server.websocket import LIFETIME_SPREAD, RealtimeWebSocketProtocol

from .test_upstream_fence import fingerprint

# "module:qualified.name": (fingerprint at the pinned version, why the drain relies on it)
UPSTREAM = {
    "daphne.server:Server.listen_success": (
        "0aa2ef7d71380301",
        "RealtimeServer.listen_success keeps the port it is given: the listeners' Deferreds end with None",
    ),
    "daphne.server:Server.kill_all_applications": (
        "4e1618c6f7871758",
        "RealtimeServer.kill_all_applications drains before it; it reads every connection's "
        "application_instance, which the drain waits for Daphne's checker to make true",
    ),
    "daphne.ws_protocol:WebSocketProtocol.check_timeouts": (
        "0e2ee6816a93a598",
        "a negative server.websocket_timeout turns its socket timeout off: RealtimeServer hands "
        "the timeout to RealtimeWebSocketProtocol.check_timeouts, per socket",
    ),
    "twisted.web.http:HTTPChannel.checkPersistence": (
        "3f0cb5b5a40e1109",
        "BoundedHTTPChannel.checkPersistence answers Connection: close while the process drains",
    ),
    "twisted.internet.base:ReactorBase.sigTerm": (
        "acdd1048ed5087e7",
        "a second SIGTERM would ask a stopping reactor to stop (an error): the drain takes the signal over",
    ),
    "twisted.internet.base:ReactorBase.sigInt": ("60350560f58ef541", "as sigTerm"),
    "twisted.internet.asyncioreactor:AsyncioSelectorReactor.stop": (
        "2d90765add51e655",
        "the before-shutdown triggers (the drain) run on the next loop pass, the reactor serving meanwhile",
    ),
}


@pytest.mark.parametrize("name", sorted(UPSTREAM))
def test_each_upstream_function_the_drain_relies_on_is_as_it_was_read(name):
    expected, why = UPSTREAM[name]
    assert fingerprint(name) == expected, f"re-read {name} against upstream: {why}"


def test_reconnect_frame_is_an_envelope_as_protocol_encode_writes_one():
    text = reconnect_frame(1234)
    message = json.loads(text)
    assert list(message) == ["type", "timestamp", "data"]
    assert message["type"] == "reconnect" and message["data"] == {"after_ms": 1234}
    assert message["timestamp"] == protocol.iso_utc(
        protocol.datetime.fromisoformat(message["timestamp"].replace("Z", "+00:00"))
    )
    # encode's separators: no spaces, as every other frame.
    assert text == json.dumps(message, separators=(",", ":"))


class AnsweringRequest(http.Request):
    def process(self):
        self.setHeader(b"content-length", b"2")
        self.write(b"ok")
        self.finish()


def connected_channel() -> tuple[BoundedHTTPChannel, StringTransport]:
    channel = BoundedHTTPChannel()
    channel.requestFactory = AnsweringRequest
    transport = StringTransport()
    channel.makeConnection(transport)
    return channel, transport


REQUEST = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


def test_a_kept_alive_channel_idle_when_the_process_drains_answers_its_next_request_then_closes():
    channel, transport = connected_channel()
    channel.dataReceived(REQUEST)
    assert transport.value().endswith(b"ok") and not transport.disconnecting
    channel.stop_keeping_alive()
    # Not cut off: nginx may be sending a request on it right now.
    assert not transport.disconnecting
    transport.clear()
    channel.dataReceived(REQUEST)
    assert b"connection: close" in transport.value().split(b"\r\n\r\n")[0].lower()
    assert transport.value().endswith(b"ok")
    assert transport.disconnecting
    channel.connectionLost(None)


def test_a_request_arriving_while_the_process_drains_is_answered_then_the_channel_closes():
    channel, transport = connected_channel()
    # A fresh connection whose request is still on its way is not cut off.
    channel.stop_keeping_alive()
    assert not transport.disconnecting
    channel.dataReceived(REQUEST)
    head = transport.value().split(b"\r\n\r\n")[0].lower()
    assert b"connection: close" in head
    assert transport.value().endswith(b"ok")
    assert transport.disconnecting
    channel.connectionLost(None)


def lifetimes(timeout: float, count: int) -> list[float]:
    protocol_class = type("Timed", (RealtimeWebSocketProtocol,), {"websocket_lifetime": timeout})
    chosen = []
    for _ in range(count):
        socket = protocol_class()
        socket.choose_lifetime()
        chosen.append(socket.lifetime)
    return chosen


def test_sockets_opened_together_end_spread_over_the_last_part_of_the_socket_timeout():
    day = 86400.0
    chosen = lifetimes(day, 500)
    assert all(day * (1 - LIFETIME_SPREAD) <= lifetime <= day for lifetime in chosen)
    # Not one second for all of them: hardly two in any one second.
    assert max(Counter(int(lifetime) for lifetime in chosen).values()) <= 3
    assert max(chosen) - min(chosen) > day * LIFETIME_SPREAD * 0.9


def test_a_server_without_a_socket_timeout_gives_its_sockets_none():
    socket = type("Untimed", (RealtimeWebSocketProtocol,), {"websocket_lifetime": -1})()
    socket.choose_lifetime()
    assert "lifetime" not in socket.__dict__
