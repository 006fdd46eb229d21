"""Back-pressure against a live Daphne: a client that stops reading is cut
off (issue 5, "Slow consumers"), nobody else notices, and what it missed,
including what was never sent to it, comes back by resume (`?since=`). And
what a channel layer drops (issue 5: "Messages a channel layer drops are
recoverable by resume") must reach a client that resumes as PROTOCOL.md says.

The stalled client is a raw TCP socket with a small receive buffer that
speaks just enough WebSocket to open the stream and then reads nothing: the
kernel buffers on both sides fill within a few dozen frames, and everything
after that waits in Daphne's (Twisted's) buffer for this client, which the
server bounds at REALTIME_MAX_QUEUED_BYTES.
"""

import asyncio
import base64
import json
import os
import select
import signal
import socket
import struct
import time
from urllib.parse import urlencode

import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from .conftest import running_redis, running_server, server_env
from .helpers import (
    MESSAGE_TIMEOUT,
    LiveServer,
    ping,
    recv_data,
    wait_for_stats,
)

pytestmark = pytest.mark.asyncio

# Small, so a stalled client passes it after a couple of hundred tweets.
MAX_QUEUED_BYTES = 65536
# What the stalled client lets its kernel buffer (Linux doubles it).
CLIENT_RCVBUF = 4096
# An Ethernet-sized segment, as a client on a real network announces. (On
# loopback the default is 64 KiB, from which Linux would autotune the
# server's send buffer to megabytes; the server now fixes that buffer itself,
# realtime/server/limits.py, and test_slow_reader_bound.py uses loopback's.)
CLIENT_MSS = 1460
# Tweets as long as allowed: fewer needed to fill the buffers.
CONTENT = "slow reader test " + "x" * 250
# Far more than the buffers hold; the test fails if the cut never comes.
MAX_TWEETS = 1500
# A follower that keeps reading gets every tweet within this of its post.
PROMPT_SECONDS = 3.0


@pytest.fixture(scope="module")
def bounded_server(tmp_path_factory):
    """A Daphne whose clients may leave only 64 KiB unsent, and whose users
    may post as fast as the test needs."""
    workdir = tmp_path_factory.mktemp("slow_client")
    env = server_env(workdir)
    env.update(
        REALTIME_MAX_QUEUED_BYTES=str(MAX_QUEUED_BYTES),
        API_WRITE_RATE="100000/minute",
        REALTIME_REPLAY_LIMIT="5000",
    )
    with running_server("bounded_server", env, workdir / "daphne.log") as server:
        yield server


# --- A WebSocket client that can stop reading ---------------------------------


class StalledClient:
    """A WebSocket over a raw socket whose receive buffer is `CLIENT_RCVBUF`.

    It reads only when told to (`pong`, `drain`), so the server meets a
    client whose TCP window is closed, as with a frozen tab or a phone that
    lost its radio without a FIN. It announces `mss` as its segment size
    (None: the link's own).
    """

    def __init__(self, server: LiveServer, path: str, query: dict, *, mss: int | None = CLIENT_MSS):
        self.sock = socket.socket()
        # Before connect(): the window scale is fixed by the handshake.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RCVBUF)
        if mss:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
        self.sock.settimeout(MESSAGE_TIMEOUT)
        self.sock.connect(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path}?{urlencode(query)} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            assert chunk, "the server closed the connection during the handshake"
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_text(self, text: str) -> None:
        payload = text.encode()
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def frames(self):
        """Split off the complete frames buffered so far: (opcode, payload)."""
        while True:
            if len(self.buffer) < 2:
                return
            opcode, length = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F
            offset = 2
            if length == 126:
                if len(self.buffer) < 4:
                    return
                (length,) = struct.unpack("!H", self.buffer[2:4])
                offset = 4
            elif length == 127:
                if len(self.buffer) < 10:
                    return
                (length,) = struct.unpack("!Q", self.buffer[2:10])
                offset = 10
            if len(self.buffer) < offset + length:
                return
            payload = self.buffer[offset : offset + length]
            self.buffer = self.buffer[offset + length :]
            yield opcode, payload

    def pong(self) -> None:
        """Send `ping` and read up to the `pong`: the stream is open and joined."""
        self.send_text("ping")
        while True:
            self.buffer += self.sock.recv(4096)
            for opcode, payload in self.frames():
                assert opcode == 1 and json.loads(payload)["type"] == "pong", payload
                return

    def cut_off(self) -> bool:
        """Whether the server has ended the TCP connection (without reading)."""
        poller = select.poll()
        poller.register(self.sock, select.POLLERR | select.POLLHUP | select.POLLRDHUP)
        return bool(poller.poll(0))

    def drain(self) -> tuple[list[tuple[int, bytes]], str]:
        """Read everything left until the connection ends: the frames, and
        how it ended ("eof" or the name of the socket error)."""
        ending = "eof"
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError as error:
                ending = type(error).__name__
                break
            if not chunk:
                break
            self.buffer += chunk
        self.sock.close()
        return list(self.frames()), ending


def feed_tweet_ids(frames) -> list[str]:
    ids = []
    for opcode, payload in frames:
        if opcode == 1:
            message = json.loads(payload)
            assert message["type"] == "feed_update", message
            ids += [tweet["tweet_id"] for tweet in message["data"]["tweets"]]
    return ids


def close_code(frames) -> int | None:
    for opcode, payload in frames:
        if opcode == 8:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
    return None


async def follow_live(ws, into: list[tuple[str, float]]) -> None:
    """Record every feed tweet `ws` receives, with when it arrived, until cancelled."""
    while True:
        data = await recv_data(ws, "feed_update", timeout=60)
        now = time.monotonic()
        into += [(tweet["tweet_id"], now) for tweet in data["tweets"]]


# --- The tests ----------------------------------------------------------------


async def test_stalled_reader_is_cut_off_others_unaffected_and_resume_loses_nothing(
    bounded_server,
):
    server = bounded_server
    author, stalled, attentive = server.register(), server.register(), server.register()
    server.follow(stalled, author)
    server.follow(attentive, author)
    feed = "/ws/feed/{}"
    slow = await asyncio.to_thread(
        StalledClient, server, feed.format(stalled.user_id), {"token": stalled.token}
    )
    await asyncio.to_thread(slow.pong)
    received: list[tuple[str, float]] = []
    async with server.connect(feed.format(attentive.user_id), attentive.token) as live:
        await ping(live)
        reader = asyncio.create_task(follow_live(live, received))
        try:
            posted: list[tuple[str, float]] = []
            while not slow.cut_off():
                assert len(posted) < MAX_TWEETS, (
                    f"{MAX_TWEETS} tweets to a client that reads nothing, and it is still "
                    f"connected: the server is buffering for it without bound"
                )
                tweet = await asyncio.to_thread(server.post_tweet, author, CONTENT)
                posted.append((tweet["tweet_id"], time.monotonic()))
            # The server is fine: it answers, and a tweet posted now still
            # reaches the follower that reads.
            status, body = server.api("GET", "/healthz")
            assert (status, body) == (200, {"status": "ok"})
            tweet = await asyncio.to_thread(server.post_tweet, author, "after the cut")
            posted.append((tweet["tweet_id"], time.monotonic()))
            deadline = time.monotonic() + MESSAGE_TIMEOUT
            while len(received) < len(posted) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        finally:
            reader.cancel()
    all_ids = [tweet_id for tweet_id, _ in posted]
    assert [tweet_id for tweet_id, _ in received] == all_ids
    delays = [got - sent for (_, sent), (_, got) in zip(posted, received)]
    assert max(delays) < PROMPT_SECONDS, f"the reading follower waited up to {max(delays):.2f} s"

    # What the stalled client finds when it finally reads: the frames its
    # kernel held, then a reset. The 4429 close frame was queued behind the
    # 64 KiB it would not read, so it never arrives: after autobahn's 1 s
    # closing-handshake timeout, Daphne aborts the TCP connection.
    frames, ending = await asyncio.to_thread(slow.drain)
    seen = feed_tweet_ids(frames)
    assert close_code(frames) in (None, 4429), frames[-1:]
    assert ending in ("eof", "ConnectionResetError"), ending
    assert seen == all_ids[: len(seen)], "live frames came out of order or with a gap"
    missed = all_ids[len(seen) :]
    # Each missed tweet was at least one frame of its size withheld (the
    # envelope makes a frame much longer than its content).
    frame_bytes = min((len(payload) for opcode, payload in frames if opcode == 1), default=len(CONTENT))
    assert len(missed) * frame_bytes > MAX_QUEUED_BYTES, (
        f"less was withheld than the bound: {len(missed)} of {len(all_ids)} tweets "
        f"of {frame_bytes} bytes, ending {ending}"
    )
    # Figures for docs/RELIABILITY.md (pytest -rP shows them).
    print(
        f"cut off after {len(posted)} tweets of {len(CONTENT)} characters; the stalled "
        f"client then read {len(seen)} and got {ending}; the reading follower waited at "
        f"most {max(delays):.3f} s; {len(missed)} to replay"
    )

    # The server forgot the connection (no leaked count against the user's limit).
    await wait_for_stats(
        server,
        {
            "active_users": 0,
            "total_user_connections": 0,
            "global_connections": 0,
            "total_connections": 0,
        },
        timeout=MESSAGE_TIMEOUT,
    )

    # Back with the last id it saw: every tweet it missed, once, in order, then live ones.
    since = {"since": seen[-1]} if seen else {"since": "0"}
    async with server.connect(feed.format(stalled.user_id), stalled.token, query=since) as ws:
        replay = await recv_data(ws, "feed_update")
        assert [tweet["tweet_id"] for tweet in replay["tweets"]] == missed
        assert replay["count"] == len(missed)
        await ping(ws)
        live_tweet = await asyncio.to_thread(server.post_tweet, author, "live again")
        update = await recv_data(ws, "feed_update")
        assert [tweet["tweet_id"] for tweet in update["tweets"]] == [live_tweet["tweet_id"]]
    assert "Exception inside application" not in server.log_path.read_text(errors="replace")


# --- A server process too slow for its channel layer ---------------------------


@pytest.fixture(scope="module")
def redis_pair(tmp_path_factory):
    """Two Daphne processes on one database and a Redis of their own, whose
    subscriber connections a test may drop."""
    workdir = tmp_path_factory.mktemp("layer_drop")
    with running_redis(workdir) as redis_url:
        env = server_env(workdir, redis_url=redis_url)
        env["API_WRITE_RATE"] = "100000/minute"
        with running_server("subscriber", env, workdir / "subscriber.log") as subscriber:
            with running_server(
                "publisher", env, workdir / "publisher.log", migrate_first=False
            ) as publisher:
                yield subscriber, publisher, int(redis_url.rsplit(":", 1)[1].split("/")[0])


def redis_command(port: int, *args: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=MESSAGE_TIMEOUT) as sock:
        command = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
        sock.sendall(command.encode())
        return sock.recv(4096)


async def follow_resuming(server, account, into: list[str], connected: asyncio.Event) -> None:
    """Read `account`'s feed as PROTOCOL.md's client does: whenever the
    stream ends (any close code but 4401, 4403, 4404; a refused or failed
    handshake), reconnect with `?since=` the last id seen."""
    path = f"/ws/feed/{account.user_id}"
    while True:
        query = {"since": into[-1]} if into else None
        try:
            async with server.connect(path, account.token, query=query) as ws:
                await ws.send("ping")
                while True:
                    message = json.loads(await ws.recv())
                    if message["type"] == "pong":
                        connected.set()
                    elif message["type"] == "feed_update":
                        into += [tweet["tweet_id"] for tweet in message["data"]["tweets"]]
        except ConnectionClosed as closed:
            assert closed.rcvd is None or closed.rcvd.code not in (4401, 4403, 4404), closed
        except (OSError, InvalidHandshake):
            pass
        await asyncio.sleep(0.2)


async def test_what_the_channel_layer_drops_still_reaches_a_resuming_client(redis_pair):
    """Redis drops a subscriber's connection (its pub/sub output limit, 32 MB
    by default, when a process falls behind; a failover; a network blip), and
    what is published until the process subscribes again reaches no one; the
    process reconnects on its own. A client connected through it must still
    end up with every tweet: either the server sends what was dropped, or it
    closes the stream so the client resumes with `?since=`. A gap the client
    cannot see is lost for good: its next resume starts after the newest
    tweet it saw."""
    subscriber, publisher, redis_port = redis_pair
    author, reader = publisher.register(), publisher.register()
    publisher.follow(reader, author)
    received: list[str] = []
    posted: list[str] = []
    connected = asyncio.Event()
    client = asyncio.create_task(follow_resuming(subscriber, reader, received, connected))
    try:
        await asyncio.wait_for(connected.wait(), MESSAGE_TIMEOUT)
        posted.append((await asyncio.to_thread(publisher.post_tweet, author, "before"))["tweet_id"])
        deadline = time.monotonic() + MESSAGE_TIMEOUT
        while received != posted and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert received == posted
        # The subscriber process stalls (a long pause, a starved CPU), Redis
        # drops its subscription connection, and the author posts on.
        subscriber.process.send_signal(signal.SIGSTOP)
        try:
            killed = redis_command(redis_port, "CLIENT", "KILL", "TYPE", "pubsub")
            assert killed.startswith(b":") and killed != b":0\r\n", killed
            for n in range(5):
                tweet = await asyncio.to_thread(publisher.post_tweet, author, f"dropped {n}")
                posted.append(tweet["tweet_id"])
        finally:
            subscriber.process.send_signal(signal.SIGCONT)
        # Until the process is subscribed again and tweets flow again.
        deadline = time.monotonic() + 15
        while not (received and received[-1] == posted[-1]) and time.monotonic() < deadline:
            tweet = await asyncio.to_thread(publisher.post_tweet, author, "after")
            posted.append(tweet["tweet_id"])
            await asyncio.sleep(0.3)
        assert received and received[-1] == posted[-1], "the stream never delivered again"
    finally:
        client.cancel()
        await asyncio.gather(client, return_exceptions=True)
    missed = [tweet_id for tweet_id in posted if tweet_id not in received]
    assert not missed, (
        f"{len(missed)} of {len(posted)} tweets never reached the client, and the server "
        f"did not close its stream so that it could resume: {missed}"
    )
    assert received == posted
