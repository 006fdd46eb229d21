"""Frames written straight to the socket (realtime/server/direct.py) only
where that is the same as Twisted's write."""

import socket
import struct

import pytest
from twisted.internet.protocol import Protocol
from twisted.internet.tcp import Server
from twisted.protocols.policies import ProtocolWrapper

from realtime_project.realtime.server.direct import prepared_frame, send_prepared_now, write_now
from realtime_project.realtime.server.limits import CLOSE_TOO_SLOW
from realtime_project.realtime.server.websocket import RealtimeWebSocketProtocol


class PlainSocket:
    """What a TLS wrapper sits on: any bytes written here go out as they are."""

    TLS = False
    connected = True
    disconnecting = False
    _writeDisconnected = False
    _tempDataLen = 0
    dataBuffer = b""
    offset = 0

    def __init__(self):
        self.on_the_wire = []

    def writeSomeData(self, data):
        self.on_the_wire.append(data)
        return len(data)

    def write(self, data):
        self.on_the_wire.append(data)


class TLSWrapper(ProtocolWrapper):
    """Like Twisted's TLSMemoryBIOProtocol: it encrypts what is written to
    it, and hands other attributes through to the socket beneath."""

    def __init__(self, socket):
        self.transport = socket
        self.connected = 1  # as makeConnection() leaves it
        self.encrypted = []

    def write(self, data):
        self.encrypted.append(data)

    def __getattr__(self, name):
        return getattr(self.transport, name)


def test_a_frame_on_a_tls_connection_goes_through_the_encrypting_layer():
    socket = PlainSocket()
    tls = TLSWrapper(socket)
    write_now(tls, b"frame")
    assert tls.encrypted == [b"frame"]
    assert socket.on_the_wire == [], "the frame went out unencrypted"


def test_a_frame_on_anything_but_a_plain_tcp_connection_takes_twisteds_write():
    socket = PlainSocket()
    write_now(socket, b"frame")  # looks like a connection, is not Twisted's
    assert socket.on_the_wire == [b"frame"]


# --- On a real TCP connection ------------------------------------------------


class Reactor:
    """The part of a reactor a Twisted connection registers with: what it
    records is what Twisted would write later."""

    def __init__(self):
        self.writers = set()

    def addReader(self, reader):
        pass

    def removeReader(self, reader):
        pass

    def addWriter(self, writer):
        self.writers.add(writer)

    def removeWriter(self, writer):
        self.writers.discard(writer)

    def callLater(self, delay, function, *args, **kwargs):
        pass  # an aborted connection's connectionLost: not needed here


def tcp_connection():
    """A Twisted server-side TCP transport on a real loopback connection,
    with a small send buffer, and the client's socket."""
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    accepted, address = listener.accept()
    listener.close()
    accepted.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    accepted.setblocking(False)
    reactor = Reactor()
    transport = Server(accepted, Protocol(), address, None, 1, reactor)
    return transport, client, reactor


def read_all(client, transport, reactor, expected: int) -> bytes:
    """What the client receives, letting Twisted write its buffer as a
    reactor would when the socket is writable."""
    client.settimeout(2)
    received = b""
    while len(received) < expected:
        if transport in reactor.writers:
            transport.doWrite()
        received += client.recv(65536)
    return received


def test_a_frame_goes_to_the_socket_at_once_when_nothing_waits_ahead_of_it():
    transport, client, reactor = tcp_connection()
    write_now(transport, b"frame")
    assert not reactor.writers, "Twisted should have nothing to write later"
    assert read_all(client, transport, reactor, 5) == b"frame"


def test_a_frame_written_while_twisted_holds_data_goes_out_behind_that_data():
    transport, client, reactor = tcp_connection()
    big = b"B" * 400_000  # more than the socket buffers hold
    write_now(transport, big)
    assert transport in reactor.writers, "nothing was left for Twisted: the test sent too little"
    # The client reads some, so the kernel would take more now; the marker
    # must still wait behind what Twisted holds.
    client.settimeout(2)
    received = client.recv(65536)
    write_now(transport, b"MARK")
    received += read_all(client, transport, reactor, len(big) + 4 - len(received))
    assert received == big + b"MARK"


def test_a_connection_reset_by_the_client_is_left_to_twisted_without_raising():
    transport, client, reactor = tcp_connection()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()  # a reset, not a clean close
    for _ in range(3):  # the first send may still be taken; a later one fails
        write_now(transport, b"frame")
    assert transport.doWrite() is not None or transport in reactor.writers


# --- Daphne's WebSocket: closing sockets and the slow-reader bound --------------


class WebSocket:
    """What send_prepared_now reads of the server's WebSocket protocol."""

    STATE_OPEN = RealtimeWebSocketProtocol.STATE_OPEN
    STATE_CLOSING = RealtimeWebSocketProtocol.STATE_CLOSING
    STATE_CLOSED = RealtimeWebSocketProtocol.STATE_CLOSED

    def __init__(self, transport):
        self.transport = transport
        self.state = self.STATE_OPEN
        self.closed_with: list[int] = []
        self.max_queued_bytes = RealtimeWebSocketProtocol.max_queued_bytes

    def sendClose(self, code, reason):
        self.closed_with.append(code)
        self.state = self.STATE_CLOSING


def frame(text: str):
    return prepared_frame(text, {})


def test_nothing_is_sent_on_a_closing_websocket():
    transport, client, reactor = tcp_connection()
    websocket = WebSocket(transport)
    websocket.state = websocket.STATE_CLOSING

    assert send_prepared_now(websocket, frame("late")) is False
    client.settimeout(0.2)
    with pytest.raises(OSError):  # a timeout: nothing arrives
        client.recv(100)


def test_a_reader_past_the_queued_bytes_bound_is_closed_and_its_frame_dropped():
    transport, client, reactor = tcp_connection()
    websocket = WebSocket(transport)
    websocket.max_queued_bytes = 100_000
    big = frame("x" * 300_000)  # the client reads nothing: most of it stays queued

    assert send_prepared_now(websocket, big) is True
    assert send_prepared_now(websocket, frame("one more")) is False
    assert websocket.closed_with == [CLOSE_TOO_SLOW]
