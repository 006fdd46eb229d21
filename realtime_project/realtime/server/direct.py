"""Write to a WebSocket without the ASGI round trip (for delivery.py).

A consumer's `send` is Daphne's `handle_reply`, which has autobahn frame
the text and Twisted buffer it. Twisted never writes in `write()`: it registers the socket with
the reactor and writes on the next loop pass, which under Daphne's asyncio
reactor costs two `epoll_ctl` calls and a callback per socket per message.
In a profile of a broadcast, that registration was a large share of the
server's CPU (docs/PERFORMANCE.md, "What made the difference" and item 2).
Here a frame is built once per broadcast (autobahn's PreparedMessage) and,
when nothing is buffered ahead of it, sent to the socket at once, as
asyncio's own transports do; what the kernel does not take goes to
Twisted's buffer as before.

Everything else about a send is kept: the limits of limits.py (a slow
reader is closed with 4429, nothing is written to a closing socket).

`watch_plain` goes one step further for delivery.py: it holds the kernel
socket of an open WebSocket with nothing buffered in a table, and a
subclass of Twisted's transport takes it out again the moment that stops
being true, so that a broadcast needs no check per receiver.
"""

from autobahn.websocket.protocol import PreparedMessage, WebSocketProtocol
from twisted.internet.tcp import Server

from .limits import may_send, queued_bytes

OPEN = WebSocketProtocol.STATE_OPEN


def prepared_frame(text: str, frames: dict) -> PreparedMessage:
    """`text` framed once per broadcast: `frames` caches it by text.

    Never compressed (doNotCompress): with permessage-deflate negotiated
    (Daphne does not offer it) an uncompressed frame is still valid, and
    compressing would cost once per socket what framing saves."""
    prepared = frames.get(text)
    if prepared is None:
        prepared = frames[text] = PreparedMessage(text.encode(), False, False, True)
    return prepared


def send_text_now(protocol, text: str, frames: dict) -> bool:
    """Send a text message on a Daphne WebSocket now, as `websocket.send`
    would; return whether it was sent (not dropped for a closing socket or a
    slow reader). `frames` caches the framed message by text, so that a
    broadcast frames it once for all its sockets."""
    return send_prepared_now(protocol, prepared_frame(text, frames))


def send_prepared_now(protocol, prepared: PreparedMessage) -> bool:
    """Send a framed message on a Daphne WebSocket now (see send_text_now).

    This runs once per receiver of every broadcast, so the common case (an
    open socket with nothing unsent) is one check and one system call;
    anything else goes to Twisted's buffer, within limits.py's bound."""
    if protocol.state != OPEN:
        return False
    transport = protocol.transport
    if writable_now(transport):
        send_now(transport, prepared.payloadHybi)
        return True
    # The slow-reader bound needs checking only when something waits unsent.
    if queued_bytes(transport) and not may_send(protocol):
        return False
    transport.write(prepared.payloadHybi)
    return True


def writable_now(transport) -> bool:
    """Whether `data` may go straight to the transport's socket: a plain,
    connected TCP connection with nothing buffered ahead.

    Only a plain TCP connection is written to directly. Under TLS (Daphne
    listening on an `ssl:` endpoint) the transport is Twisted's TLS
    wrapper, which hands unknown attributes through to the TCP connection
    beneath: writing there would put the frame on the wire unencrypted."""
    return (
        type(transport) in PLAIN_TCP
        and not transport.TLS
        and transport.connected
        and not transport.disconnecting
        and not transport._writeDisconnected
        and not transport._tempDataLen
        and len(transport.dataBuffer) <= transport.offset
    )


def send_now(transport, data: bytes) -> None:
    """Send `data` on a transport that is `writable_now`; Twisted buffers
    what the kernel does not take. (A registered producer, such as the
    HTTP channel that did the handshake, is paused by Twisted only when its
    buffer grows, which is the same here.)"""
    try:
        sent = transport.socket.send(data)
    except (BlockingIOError, InterruptedError):
        sent = 0
    except OSError:
        # Lost (or ENOBUFS): Twisted's own path notices, or retries.
        transport.write(data)
        return
    if sent < len(data):
        transport.write(data[sent:])


def write_now(transport, data: bytes) -> None:
    """`transport.write(data)`, sent to the socket at once when nothing is
    buffered ahead of it (see writable_now); any rest is buffered by
    Twisted as usual."""
    if writable_now(transport):
        send_now(transport, data)
    else:
        transport.write(data)


class WatchedServer(Server):
    """Twisted's server-side TCP transport, watched by `watch_plain`: every
    way it can stop being plain (data buffered, TLS started, closing, lost)
    first takes its socket out of the table that holds it."""

    def write(self, data):
        unwatch(self)
        super().write(data)

    def writeSequence(self, iovec):
        unwatch(self)
        super().writeSequence(iovec)

    def startTLS(self, *args, **kwargs):
        unwatch(self)
        return super().startTLS(*args, **kwargs)

    def loseConnection(self):
        unwatch(self)
        return super().loseConnection()

    def loseWriteConnection(self):
        unwatch(self)
        return super().loseWriteConnection()

    def abortConnection(self):
        unwatch(self)
        return super().abortConnection()

    def connectionLost(self, reason):
        unwatch(self)
        return super().connectionLost(reason)


PLAIN_TCP = (Server, WatchedServer)

# Watched transport -> (table, key): where its socket is held.
_watched: dict = {}


def watch_plain(protocol, table: dict, key) -> bool:
    """Put the kernel socket of a Daphne WebSocket in `table[key]` if a frame
    may go to it with no check at all: the WebSocket is open and nothing is
    buffered ahead (`writable_now`). It stays there only while that holds:
    its transport takes it out before it buffers anything, closes or is
    lost, and a close frame sent takes it out too (websocket.py).
    Return whether it is there.

    This is what lets delivery.py write a broadcast to most of its receivers
    without reading the consumer, the protocol and the transport of each
    (docs/PERFORMANCE.md, item 16)."""
    if protocol.state != OPEN:
        return False
    transport = protocol.transport
    if not writable_now(transport):
        return False
    if type(transport) is Server:
        transport.__class__ = WatchedServer
    _watched[transport] = (table, key)
    table[key] = transport.socket
    return True


def unwatch(transport) -> None:
    """Take the transport's socket out of the table `watch_plain` put it in."""
    entry = _watched.pop(transport, None)
    if entry is not None:
        table, key = entry
        table.pop(key, None)
