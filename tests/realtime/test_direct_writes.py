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
