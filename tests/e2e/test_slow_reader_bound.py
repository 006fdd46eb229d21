"""What a server queues for a client that stops reading is bounded by
REALTIME_MAX_QUEUED_BYTES, the kernel's send buffer included (issue 16).

The bound used to count only Twisted's buffer. Ahead of it is the kernel's
send buffer, which Linux grows by itself to 4 MiB for a fast peer: about
4 MB waited for the client before the 4429, and its close frame waited
behind them, so a client that could not read 4 MB within the one-second
closing handshake saw a reset, never 4429. Here the stalled client is on
loopback with loopback's own segment size (no help from the client, unlike
test_slow_client.py), and counts what it can read before the close frame.
"""

import asyncio
import json
import struct
import time

import pytest

from .conftest import running_server, server_env
from .helpers import MESSAGE_TIMEOUT, metric_value, ping, recv_data
from .test_slow_client import StalledClient, close_code

pytestmark = pytest.mark.asyncio

MAX_QUEUED_BYTES = 65536
CONTENT = "bounded reader " + "y" * 250
# What may wait on top of the bound: the kernel's share of it, the stalled
# client's own small receive buffer and what is on the wire between them,
# and the frame that crossed the bound.
ALLOWED_EXTRA = MAX_QUEUED_BYTES


@pytest.fixture(scope="module")
def bound_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slow_reader_bound")
    env = server_env(workdir)
    env.update(REALTIME_MAX_QUEUED_BYTES=str(MAX_QUEUED_BYTES), API_WRITE_RATE="100000/minute")
    with running_server("bound_server", env, workdir / "daphne.log") as server:
        yield server


def wire_size(payload: bytes) -> int:
    """Bytes of a server frame (unmasked) with this payload."""
    return len(payload) + (2 if len(payload) < 126 else 4 if len(payload) < 65536 else 10)


def read_to_close_frame(client: StalledClient) -> tuple[int, list, str]:
    """Read as fast as possible until the close frame: return the bytes of
    the frames before it, the frames, and how reading ended ("close frame",
    "eof", or the socket error's name)."""
    frames: list = []
    before = 0
    while True:
        for opcode, payload in client.frames():
            frames.append((opcode, payload))
            if opcode == 0x8:
                return before, frames, "close frame"
            before += wire_size(payload)
        try:
            chunk = client.sock.recv(65536)
        except OSError as error:
            return before, frames, type(error).__name__
        if not chunk:
            return before, frames, "eof"
        client.buffer += chunk


def dropped_slow_readers(server) -> float:
    return metric_value(server, "realtime_clients_dropped_total", reason="slow reader")


async def test_a_client_that_stops_reading_gets_4429_after_about_the_bound(bound_server):
    server = bound_server
    author, stalled, attentive = server.register(), server.register(), server.register()
    server.follow(stalled, author)
    server.follow(attentive, author)
    dropped_before = await asyncio.to_thread(dropped_slow_readers, server)
    slow = await asyncio.to_thread(
        StalledClient,
        server,
        f"/ws/feed/{stalled.user_id}",
        {"token": stalled.token},
        mss=None,
    )
    try:
        await asyncio.to_thread(slow.pong)
        async with server.connect(f"/ws/feed/{attentive.user_id}", attentive.token) as live:
            await ping(live)
            # The size of one tweet's frame, from the follower that reads.
            await asyncio.to_thread(server.post_tweet, author, CONTENT)
            text = await asyncio.wait_for(live.recv(), MESSAGE_TIMEOUT)
            assert json.loads(text)["type"] == "feed_update", text
            frame = wire_size(text.encode())
            posted = frame
            limit = MAX_QUEUED_BYTES + 4 * ALLOWED_EXTRA
            while await asyncio.to_thread(dropped_slow_readers, server) == dropped_before:
                assert posted < limit, (
                    f"{posted} bytes of frames for a client that reads nothing, and it "
                    f"is still connected: more than {MAX_QUEUED_BYTES} wait for it"
                )
                await asyncio.to_thread(server.post_tweet, author, CONTENT)
                await recv_data(live, "feed_update")
                posted += frame
            # Closed for slowness: the client reads now, as fast as it can,
            # within the server's one-second closing handshake.
            started = time.monotonic()
            before_close, frames, ending = await asyncio.to_thread(read_to_close_frame, slow)
            took = time.monotonic() - started
            # The follower that reads was served all along.
            await ping(live)
    finally:
        slow.sock.close()

    assert ending == "close frame", f"no close frame: reading ended with {ending} after {before_close} bytes"
    assert close_code(frames) == 4429, frames[-1]
    payload = frames[-1][1]
    assert struct.unpack("!H", payload[:2])[0] == 4429
    assert MAX_QUEUED_BYTES <= before_close <= MAX_QUEUED_BYTES + ALLOWED_EXTRA, (
        f"{before_close} bytes came before the close frame; the bound is {MAX_QUEUED_BYTES}"
    )
    # Figures for docs/RELIABILITY.md (pytest -rP shows them).
    print(
        f"bound {MAX_QUEUED_BYTES}: {posted} bytes of frames posted, {before_close} read "
        f"before the 4429 close frame (read in {took:.3f} s)"
    )
