"""The hand-written baseline of bench/fanout.py: an asyncio server holding
WebSockets in a set and writing one pre-encoded frame to each of them.

    python -m bench.rawloop PORT

No framework: the handshake is parsed by hand, a client's `ping` text is
answered with a pong, and `GET /broadcast` (plain HTTP on the same port)
writes the same frame to every socket, then answers 200. This is the
"dict of sockets, send in a loop" design of SEED.md at its cheapest: the
floor a Channels server is compared with.
"""

import asyncio
import base64
import hashlib
import json
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B65"
PONG = b'{"type": "pong", "timestamp": "2026-01-01T00:00:00Z", "data": {}}'


def frame(payload: bytes) -> bytes:
    length = len(payload)
    if length < 126:
        return bytes([0x81, length]) + payload
    if length < 65536:
        return bytes([0x81, 126]) + length.to_bytes(2, "big") + payload
    return bytes([0x81, 127]) + length.to_bytes(8, "big") + payload


def broadcast_payload() -> bytes:
    """The size and shape of an engagement_update, as the product sends it."""
    return json.dumps(
        {
            "type": "engagement_update",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "data": {
                "tweet_id": "1",
                "engagement": {"likes": 1, "retweets": 0, "replies": 0, "bookmarks": 0},
            },
        }
    ).encode()


class Server:
    def __init__(self):
        self.sockets: set[asyncio.Transport] = set()
        self.writes = 0  # broadcasts, and the time spent writing them
        self.write_seconds = 0.0


class Connection(asyncio.Protocol):
    def __init__(self, server: Server):
        self.server = server
        self.buffer = bytearray()
        self.websocket = False
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        if not self.websocket:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            del self.buffer[: end + 4]
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
            path = head[0].split(" ")[1]
            if path.startswith("/broadcast"):
                self.broadcast()
                return
            if path.startswith("/metrics"):
                self.metrics()
                return
            key = headers.get("sec-websocket-key", "").encode()
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
            self.transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            self.websocket = True
            self.server.sockets.add(self.transport)
        while len(self.buffer) >= 6:
            length = self.buffer[1] & 0x7F
            if length >= 126:  # clients here send small frames only
                self.transport.abort()
                return
            end = 6 + length
            if len(self.buffer) < end:
                return
            opcode = self.buffer[0] & 0x0F
            del self.buffer[:end]
            if opcode == 0x1:  # any text is a ping here
                self.transport.write(frame(PONG))
            elif opcode == 0x8:
                self.transport.close()
                return

    def broadcast(self):
        data = frame(broadcast_payload())  # encoded once, written N times
        started = time.perf_counter()
        for transport in self.server.sockets:
            transport.write(data)
        self.server.writes += 1
        self.server.write_seconds += time.perf_counter() - started
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        self.transport.close()

    def metrics(self):
        # The two series of the product's realtime_fanout_write_seconds that
        # bench/fanout.py reads.
        body = (
            f"realtime_fanout_write_seconds_count {self.server.writes}\n"
            f"realtime_fanout_write_seconds_sum {self.server.write_seconds}\n"
        ).encode()
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % len(body) + body
        )
        self.transport.close()

    def connection_lost(self, exc):
        self.server.sockets.discard(self.transport)


async def main(port: int) -> None:
    server = Server()
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(lambda: Connection(server), "127.0.0.1", port, backlog=4096)
    print(f"rawloop listening on {port}", flush=True)
    async with listener:
        await listener.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
