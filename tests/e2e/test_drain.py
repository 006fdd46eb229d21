"""A live server process that stops (PROTOCOL.md, "A server process that
stops"; realtime/server/drain.py): on SIGTERM it refuses new connections at
once, sends each WebSocket, on /ws/ and on a single-stream endpoint alike,
`reconnect` and a 1012 close spread over REALTIME_DRAIN_SECONDS, after what
was published before, and exits by itself."""

import asyncio
import json
import signal
import socket
import time

import pytest
from websockets.exceptions import ConnectionClosed

from .conftest import migrate, server_env, start_daphne, stop_process
from .helpers import ping, recv_json

pytestmark = pytest.mark.asyncio

DRAIN_SECONDS = 2.0
SOCKETS_PER_KIND = 6
# What the process may take beyond its window to end (the bound).
EXIT_MARGIN_SECONDS = 10.0


@pytest.fixture
def stopping_server(tmp_path):
    env = server_env(tmp_path)
    env["REALTIME_DRAIN_SECONDS"] = str(DRAIN_SECONDS)
    log_path = tmp_path / "daphne.log"
    migrate(env, log_path)
    server = start_daphne("stopping_server", env, log_path)
    try:
        yield server
    finally:
        stop_process(server.process)


async def open_feed_sockets(server, reader) -> list:
    """SOCKETS_PER_KIND sockets on /ws/ subscribed to the reader's feed, and
    as many on the single-stream endpoint, each known to have joined."""
    sockets = []
    for _ in range(SOCKETS_PER_KIND):
        ws = await server.connect("/ws/", reader.token).__aenter__()
        assert (await recv_json(ws))["type"] == "welcome"
        await ws.send(json.dumps({"type": "subscribe", "stream": f"feed/{reader.user_id}"}))
        assert (await recv_json(ws))["type"] == "subscribed"
        sockets.append(ws)
    for _ in range(SOCKETS_PER_KIND):
        ws = await server.connect(f"/ws/feed/{reader.user_id}", reader.token).__aenter__()
        await ping(ws)
        sockets.append(ws)
    return sockets


async def until_closed(ws) -> dict:
    """Every message until the server closes `ws`; the close's code and time."""
    messages = []
    try:
        while True:
            text = await asyncio.wait_for(ws.recv(), DRAIN_SECONDS + EXIT_MARGIN_SECONDS)
            messages.append(json.loads(text))
    except ConnectionClosed as closed:
        return {"messages": messages, "code": closed.rcvd and closed.rcvd.code, "at": time.monotonic()}


def refused_within(port: int, seconds: float) -> float | None:
    """Seconds until a connection to `port` is refused, trying until `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                pass
        except ConnectionRefusedError:
            return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.02)
    return None


async def test_a_stopping_server_refuses_connections_and_sends_every_socket_away_spread_over_its_drain(
    stopping_server,
):
    server = stopping_server
    reader, author = server.register(), server.register()
    server.follow(reader, author)
    sockets = await open_feed_sockets(server, reader)
    endings = [asyncio.ensure_future(until_closed(ws)) for ws in sockets]

    tweet = server.post_tweet(author, "published just before the restart")
    server.process.send_signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    refused_after = await asyncio.to_thread(refused_within, server.port, 1.0)
    results = await asyncio.gather(*endings)
    returncode = await asyncio.to_thread(server.process.wait, DRAIN_SECONDS + EXIT_MARGIN_SECONDS)
    exited_after = time.monotonic() - stopped_at

    assert refused_after is not None, "a new connection was still accepted 1 s after SIGTERM"
    for result in results:
        kinds = [message["type"] for message in result["messages"]]
        assert kinds == ["feed_update", "reconnect"], kinds
        update, reconnect = result["messages"]
        assert [t["tweet_id"] for t in update["data"]["tweets"]] == [tweet["tweet_id"]]
        assert set(reconnect) == {"type", "timestamp", "data"}, reconnect
        assert 0 <= reconnect["data"]["after_ms"] <= DRAIN_SECONDS * 1000, reconnect
        assert result["code"] == 1012, result
        assert result["at"] - stopped_at <= DRAIN_SECONDS + 0.5
    closes = sorted(result["at"] for result in results)
    # Not all in one instant (stock Daphne's were 0.01 s apart): over most of the window.
    assert closes[-1] - closes[0] > DRAIN_SECONDS * 0.4, f"closes not spread: {closes[-1] - closes[0]:.3f} s"
    # The reconnections the clients are told to make cover the window too.
    reconnects = sorted(r["at"] + r["messages"][1]["data"]["after_ms"] / 1000 - stopped_at for r in results)
    assert reconnects[-1] - reconnects[0] > DRAIN_SECONDS / 2, reconnects
    assert returncode == 0, server.log_tail()
    assert exited_after <= DRAIN_SECONDS + EXIT_MARGIN_SECONDS
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "ERROR" not in log, server.log_tail(80)
    # Every consumer ended on its websocket.disconnect: Daphne had none to cancel.
    assert "Killed 0 pending application instances" in log, server.log_tail(80)


async def test_a_server_with_no_connections_exits_soon_after_sigterm(stopping_server):
    server = stopping_server
    server.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    assert await asyncio.to_thread(server.process.wait, DRAIN_SECONDS + EXIT_MARGIN_SECONDS) == 0
    # Nothing to drain: it does not sit out its window.
    assert time.monotonic() - started < DRAIN_SECONDS


async def test_a_second_sigterm_ends_the_drain_at_once(stopping_server):
    server = stopping_server
    reader = server.register()
    sockets = await open_feed_sockets(server, reader)
    endings = [asyncio.ensure_future(until_closed(ws)) for ws in sockets]
    server.process.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.2)
    server.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    await asyncio.to_thread(server.process.wait, DRAIN_SECONDS + EXIT_MARGIN_SECONDS)
    assert time.monotonic() - started < DRAIN_SECONDS
    results = await asyncio.gather(*endings)
    # Those still open were told to come back before they were cut off.
    told = [r for r in results if r["messages"] and r["messages"][-1]["type"] == "reconnect"]
    assert len(told) == len(results), results
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, server.log_tail(80)
