"""Frames written straight to the socket (realtime/daphne_direct.py) only
where that is the same as Twisted's write."""

from twisted.protocols.policies import ProtocolWrapper

from realtime_project.realtime.daphne_direct import write_now


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


def tcp_connection():
    """A Twisted server-side TCP transport on a real loopback connection,
    with a small send buffer, and the client's socket."""
    import socket

    from twisted.internet.protocol import Protocol
    from twisted.internet.tcp import Server

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


def test_what_the_kernel_does_not_take_waits_in_twisted_and_later_frames_queue_behind_it():
    transport, client, reactor = tcp_connection()
    # Far more than the socket buffers hold: the rest must wait in Twisted,
    # and every later frame behind it, in order.
    frames = [bytes([65 + k % 26]) * 50_000 for k in range(8)]
    for frame in frames:
        write_now(transport, frame)
    assert transport in reactor.writers, "nothing was left for Twisted: the test sent too little"
    assert read_all(client, transport, reactor, sum(map(len, frames))) == b"".join(frames)
