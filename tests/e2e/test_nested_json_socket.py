"""JSON nested deeper than the parser's stack, sent over a live WebSocket
(issue 16): an `invalid_json` error frame, and the connection stays open."""

import pytest

from .helpers import expect_close, ping, recv_data, recv_json

pytestmark = pytest.mark.asyncio

# REALTIME_MAX_MESSAGE_BYTES' default; a larger message is refused with 1009
# before anything parses it.
MAX_MESSAGE_BYTES = 16384
# Python's JSON parser recurses once per level and gives up (RecursionError,
# not the ValueError of malformed JSON) past about a thousand.
NESTED = {
    "arrays": "[" * (MAX_MESSAGE_BYTES - 1),
    "objects": '{"a":' * ((MAX_MESSAGE_BYTES - 1) // 5),
    "closed-arrays": "[" * 5000 + "]" * 5000,
}


# Each stream, and the snapshot it sends on connect (None: none).
STREAMS = {
    "notifications": None,
    "feed": None,
    "trending": "trending",
    "engagement": "engagement_update",
}


def stream_path(live_server, stream: str) -> tuple[str, str | None]:
    """The path of `stream` for a fresh user, and its token (None: public)."""
    if stream == "trending":
        return "/ws/trending", None
    user = live_server.register()
    if stream == "engagement":
        return f"/ws/engagement/{live_server.post_tweet(user, 'watch me')['tweet_id']}", None
    return f"/ws/{stream}/{user.user_id}", user.token


@pytest.mark.parametrize("text", NESTED.values(), ids=NESTED.keys())
@pytest.mark.parametrize("stream", STREAMS)
async def test_deeply_nested_json_gets_invalid_json_and_the_socket_stays_open(live_server, stream, text):
    path, token = stream_path(live_server, stream)
    async with live_server.connect(path, token) as ws:
        if STREAMS[stream]:
            await recv_data(ws, STREAMS[stream])
        await ws.send(text)
        error = await recv_json(ws)
        assert error["type"] == "error" and error["data"]["code"] == "invalid_json", error
        await ping(ws)


async def test_nesting_past_the_message_limit_is_refused_before_parsing(live_server):
    user = live_server.register()
    async with live_server.connect(f"/ws/notifications/{user.user_id}", user.token) as ws:
        await ws.send("[" * 100_000)
        await expect_close(ws, 1009)
