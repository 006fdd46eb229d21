"""The load generator of bench/fanout.py: many WebSocket clients per process,
as cheap per message as Python allows, so that its own ceiling is far from
the server's.

Each client is a bare asyncio Protocol that does the RFC 6455 handshake
itself and parses only frame headers: a received text frame costs a few
microseconds (the `websockets` library costs ten times that). After the
handshake a client sends `{"type": "ping"}` and counts itself subscribed at
the first frame back (a server answers only once it has joined the stream's
groups); from then on it records the arrival time of every text frame but
pongs. If a frame carries `"t0": <seconds>` (bench/fanout.py puts the send
time in what it injects), that is recorded too, for per-message latency.

A process of clients is driven by bench/fanout.py through a Pipe:
  ("mark",)           forget what arrived so far
  ("wait", k)         answer ("reached", k) once every client has k frames
  ("report",)         answer ("report", arrivals) (per client, a list of
                      (arrival, t0 or None))
  ("close",)          close every connection and exit
"""

import asyncio
import base64
import os
import re
import time

PING = b'{"type": "ping"}'
# One receive buffer for all the clients of a process: asyncio reads into it
# and hands it to the client at once (BufferedProtocol). A plain Protocol has
# asyncio allocate a 256 KiB `recv` buffer for every read; above glibc's mmap
# threshold that is an mmap, page faults and munmap per message, which made
# a received message cost the load generator 8 to 25 us depending on where
# malloc's adaptive threshold stood: the clients, not the server, then set
# the all-received time.
RECEIVE_BUFFER = memoryview(bytearray(256 * 1024))
T0 = re.compile(rb'"t0": ?([0-9.]+)')


def masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A client-to-server frame (clients must mask; payloads under 126 bytes)."""
    assert len(payload) < 126
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + key + body


class Client(asyncio.BufferedProtocol):
    def __init__(self, group: "ClientGroup", host: str, path: str):
        self.group = group
        self.host = host
        self.path = path
        self.buffer = bytearray()
        self.transport = None
        self.handshaken = False
        self.subscribed = asyncio.get_running_loop().create_future()
        self.arrivals: list[tuple[float, float | None]] = []
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def get_buffer(self, sizehint):
        return RECEIVE_BUFFER

    def buffer_updated(self, nbytes):
        self.data_received(RECEIVE_BUFFER[:nbytes])

    def data_received(self, data):
        now = time.monotonic()
        buffer = self.buffer
        buffer += data
        if not self.handshaken:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            if b" 101 " not in status:
                self.fail(status.decode(errors="replace"))
                return
            del buffer[: end + 4]
            self.handshaken = True
            self.transport.write(masked_frame(PING))
        while len(buffer) >= 2:
            opcode = buffer[0] & 0x0F
            length = buffer[1] & 0x7F
            header = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length = int.from_bytes(buffer[2:4], "big")
                header = 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length = int.from_bytes(buffer[2:10], "big")
                header = 10
            end = header + length
            if len(buffer) < end:
                return
            if opcode == 0x1:
                self.on_text(now, buffer, header, end)
            elif opcode == 0x9:  # ping from the server (Daphne pings idle sockets)
                self.transport.write(masked_frame(bytes(buffer[header:end]), opcode=0xA))
            elif opcode == 0x8:
                code = int.from_bytes(buffer[header : header + 2], "big") if length >= 2 else None
                self.fail(f"closed by the server ({code})")
                return
            del buffer[:end]

    def on_text(self, now: float, buffer: bytearray, start: int, end: int) -> None:
        if not self.subscribed.done():
            self.subscribed.set_result(True)
            return  # the snapshot or the pong: before any measured message
        head = buffer[start : min(end, start + 24)]
        if b'"pong"' in head:
            return
        match = T0.search(buffer, start, end)
        self.arrivals.append((now, float(match.group(1)) if match else None))
        self.group.arrived(self)

    def fail(self, why: str) -> None:
        if not self.subscribed.done():
            self.subscribed.set_exception(ConnectionError(why))
        elif not self.closed:
            self.group.lost.append(why)
        self.closed = True
        if self.transport:
            self.transport.abort()

    def connection_lost(self, exc):
        if not self.closed:
            self.fail(f"connection lost ({exc})")


class ClientGroup:
    """The clients of one process, and when all of them reached k frames."""

    def __init__(self):
        self.clients: list[Client] = []
        self.reached: dict[int, int] = {}
        self.waiting: dict[int, asyncio.Future] = {}
        self.lost: list[str] = []

    def arrived(self, client: Client) -> None:
        k = len(client.arrivals)
        self.reached[k] = self.reached.get(k, 0) + 1
        future = self.waiting.get(k)
        if future is not None and not future.done() and self.reached[k] >= len(self.clients):
            future.set_result(time.monotonic())

    def mark(self) -> None:
        for client in self.clients:
            client.arrivals = []
        self.reached = {}
        self.waiting = {}

    async def wait(self, k: int, timeout: float) -> bool:
        if self.reached.get(k, 0) >= len(self.clients):
            return True
        future = self.waiting.setdefault(k, asyncio.get_running_loop().create_future())
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
            return True
        except TimeoutError:
            return False


async def open_clients(group: ClientGroup, host: str, port: int, paths: list[str], concurrency: int):
    """Connect every path; return (opened, failures)."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)
    failures: list[str] = []

    async def one(path: str) -> None:
        async with gate:
            for attempt in range(3):
                try:
                    _, client = await asyncio.wait_for(
                        loop.create_connection(lambda: Client(group, f"{host}:{port}", path), host, port),
                        10,
                    )
                    await asyncio.wait_for(client.subscribed, 15)
                    group.clients.append(client)
                    return
                except (TimeoutError, OSError, ConnectionError) as error:
                    if attempt == 2:
                        failures.append(f"{type(error).__name__}: {error}"[:200])
                    await asyncio.sleep(0.2)

    await asyncio.gather(*(one(path) for path in paths))
    return len(group.clients), failures


def client_process(conn, host: str, port: int, paths: list[str], concurrency: int, cpus) -> None:
    """Entry point of a load-generator process."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    asyncio.run(_serve(conn, host, port, paths, concurrency))


async def _serve(conn, host, port, paths, concurrency) -> None:
    group = ClientGroup()
    opened, failures = await open_clients(group, host, port, paths, concurrency)
    conn.send(("opened", opened, failures))
    await answer_commands(conn, group)


async def answer_commands(conn, group: ClientGroup, more=None) -> None:
    """Answer the Pipe's commands about `group` on `conn` until ("close",).

    `more`, if given, is an async function that sees each command first and
    returns True if it answered it: the commands of a process that speaks
    more than this protocol."""
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: commands.put_nowait(conn.recv()))
    while True:
        command = await commands.get()
        if more is not None and await more(command):
            continue
        if command[0] == "mark":
            group.mark()
            conn.send(("marked",))
        elif command[0] == "wait":
            _, k, timeout = command
            asyncio.create_task(_answer_wait(conn, group, k, timeout))
        elif command[0] == "report":
            conn.send(("report", [client.arrivals for client in group.clients], group.lost))
        elif command[0] == "close":
            loop.remove_reader(conn.fileno())
            for client in group.clients:
                client.closed = True
                client.transport.close()
            await asyncio.sleep(0.2)
            conn.send(("closed",))
            return


async def _answer_wait(conn, group: ClientGroup, k: int, timeout: float) -> None:
    ok = await group.wait(k, timeout)
    conn.send(("reached", k, ok))
