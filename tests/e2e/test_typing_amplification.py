"""Issue 16, hostile clients: one user's typing, however many sockets carry it.

The typing budget (REALTIME_TYPING_CHANGES_PER_SECOND, 2 a second with a
burst of twice that) used to be each socket's: one user with 50 sockets on a
tweet sent a watcher 500 typing frames in 6 s. It is the user's on that
tweet now, and their sockets are one typist to watchers.
"""

import asyncio
import json
import time
from collections import Counter

import pytest
from websockets.exceptions import ConnectionClosed

from .helpers import OTHER_CLIENT_ADDRESS, open_connections, recv_data, recv_json, wait_until

pytestmark = pytest.mark.asyncio

# settings.py's defaults, which live_server runs with.
TYPING_RATE = 2
TYPING_BURST = 2 * TYPING_RATE
SOCKETS = 40
# Each socket stays below its own message limit (10 a second, burst 20), so
# what refuses it is the typing budget, not the flood guard that closes it.
ROUND_SECONDS = 0.2
ROUNDS = 15


def typing(is_typing: bool) -> str:
    return json.dumps({"type": "typing", "is_typing": is_typing})


async def opened(server, path, token=None, **kwargs):
    ws = await server.connect(path, token, **kwargs)
    await recv_data(ws, "engagement_update")
    return ws


async def collect(ws, frames: list) -> None:
    """Read `ws` until it closes, keeping every frame with the time it came."""
    try:
        async for text in ws:
            frames.append({**json.loads(text), "received": time.monotonic()})
    except ConnectionClosed:
        pass


def typing_of(frames: list, account) -> list[dict]:
    return [
        frame for frame in frames if frame["type"] == "typing" and frame["data"]["user_id"] == account.user_id
    ]


async def test_one_user_with_many_sockets_cannot_multiply_typing_frames(live_server):
    author = live_server.register()
    flooder, bystander = live_server.register("Fay Flooder"), live_server.register("Bo Bystander")
    marker = live_server.register("Mo Marker")
    tweet = live_server.post_tweet(author, "reply to me")
    path = f"/ws/engagement/{tweet['tweet_id']}"
    watcher = await opened(live_server, path, source_address=OTHER_CLIENT_ADDRESS)
    sockets = [await opened(live_server, path, flooder.token) for _ in range(SOCKETS)]
    honest = await opened(live_server, path, bystander.token)
    signal = await opened(live_server, path, marker.token)
    seen: list[dict] = []
    echoes: list[list[dict]] = [[] for _ in sockets]
    readers = [asyncio.create_task(collect(watcher, seen))] + [
        asyncio.create_task(collect(ws, frames)) for ws, frames in zip(sockets, echoes)
    ]
    try:
        started = time.monotonic()
        for number in range(ROUNDS):
            # Every socket on, then every socket off: each round flips the
            # user from typing to not, or back.
            await asyncio.gather(*(ws.send(typing(number % 2 == 0)) for ws in sockets))
            if number == ROUNDS // 2:
                await honest.send(typing(True))
                honest_typed = time.monotonic()
            await asyncio.sleep(ROUND_SECONDS)
        # Each socket answers a ping: it is open, and all it sent is handled.
        for ws in sockets:
            await ws.send("ping")
        await wait_until(
            lambda: all(any(frame["type"] == "pong" for frame in frames) for frames in echoes),
            timeout=10,
            message="a flooding socket did not answer its ping",
        )
        elapsed = time.monotonic() - started
        # Frames reach the watcher in the order they were sent: once the
        # marker's has come, every frame of the flood has.
        await signal.send(typing(True))
        await wait_until(lambda: typing_of(seen, marker), timeout=5, message="no marker")

        flooder_frames = typing_of(seen, flooder)
        # The budget's tokens, plus one "stopped" when the user goes quiet.
        limit = TYPING_BURST + TYPING_RATE * elapsed + 1
        assert len(flooder_frames) <= limit, (
            f"{len(flooder_frames)} typing frames of one user in {elapsed:.1f} s (at most {limit:.0f})"
        )
        # Still one typist: the frames alternate, never "started" twice.
        states = [frame["data"]["is_typing"] for frame in flooder_frames]
        assert all(a != b for a, b in zip(states, states[1:])), states

        # Another user's typing is heard at once, whatever the flood (and
        # stopped after these servers' 1 s REALTIME_TYPING_TIMEOUT_SECONDS).
        bystander_frames = typing_of(seen, bystander)
        assert bystander_frames and bystander_frames[0]["data"]["is_typing"] is True, seen
        assert bystander_frames[0]["received"] - honest_typed < 1, "the flood delayed others"

        # The flooding sockets were told, and kept.
        kinds = Counter()
        for frames in echoes:
            kinds.update(
                frame["data"]["code"] if frame["type"] == "error" else frame["type"] for frame in frames
            )
        assert kinds["rate_limited"] > 0, kinds
        assert all(ws.close_code is None for ws in sockets)
    finally:
        for task in readers:
            task.cancel()
        for ws in [watcher, honest, signal, *sockets]:
            await ws.close()


async def test_several_sockets_of_one_user_are_one_typist_to_watchers(live_server):
    author, typist = live_server.register(), live_server.register("Tia Tabs")
    marker = live_server.register("Mo Marker")
    tweet = live_server.post_tweet(author, "reply to me")
    path = f"/ws/engagement/{tweet['tweet_id']}"
    watcher = await opened(live_server, path, source_address=OTHER_CLIENT_ADDRESS)
    first, second = [await opened(live_server, path, typist.token) for _ in range(2)]
    signal = await opened(live_server, path, marker.token)
    marks = iter([True, False, True, False])

    async def next_typing_is_the_markers():
        # Typing frames reach a watcher in the order the server sent them:
        # the marker's, sent now, comes after anything sent before it.
        is_typing = next(marks)
        await signal.send(typing(is_typing))
        data = await recv_data(watcher, "typing")
        assert (data["user_id"], data["is_typing"]) == (marker.user_id, is_typing), data

    async def handled(ws):
        # The server handles a connection's messages in order: the pong
        # comes once what was sent before it (and what it caused) is done.
        # A typist's tab watches too: it hears the others' typing meanwhile.
        await ws.send("ping")
        while (await recv_json(ws))["type"] != "pong":
            pass

    async def closed(ws):
        before = open_connections(live_server, "engagement")
        await ws.close()
        await wait_until(
            lambda: open_connections(live_server, "engagement") < before,
            timeout=5,
            message="the server did not handle the close",
        )

    try:
        await first.send(typing(True))
        assert (await recv_data(watcher, "typing"))["is_typing"] is True
        # The second tab starts, the first stops: still typing, nothing new.
        await second.send(typing(True))
        await first.send(typing(False))
        await handled(first)
        await next_typing_is_the_markers()
        # The last one stopping is what watchers hear.
        await second.send(typing(False))
        data = await recv_data(watcher, "typing")
        assert (data["user_id"], data["is_typing"]) == (typist.user_id, False), data

        # Closing a typing tab while another types: still typing.
        await first.send(typing(True))
        assert (await recv_data(watcher, "typing"))["is_typing"] is True
        await second.send(typing(True))
        await handled(second)
        await closed(first)
        await next_typing_is_the_markers()
        await closed(second)
        data = await recv_data(watcher, "typing")
        assert (data["user_id"], data["is_typing"]) == (typist.user_id, False), data
        await next_typing_is_the_markers()
    finally:
        for ws in (watcher, first, second, signal):
            await ws.close()
