"""The canary: under the server as `make run` and deploy/ start it (the
entry point of realtime/server/), a broadcast goes out through the one-pass
write (delivery.py), not the per-consumer path. If the server stopped
handing consumers their socket (the `realtime.socket` scope extension), or
the version fence turned the fast path off, every broadcast would still
arrive, only slower, and nothing but `make bench` would notice."""

from contextlib import AsyncExitStack

import pytest

from .helpers import metric_value, next_engagement

pytestmark = pytest.mark.asyncio

WATCHERS = 3


async def test_a_broadcast_under_the_real_server_is_written_in_one_pass(live_server):
    alice, bob = live_server.register(), live_server.register()
    tweet = live_server.post_tweet(alice, "canary")
    async with AsyncExitStack() as stack:
        watchers = []
        for _ in range(WATCHERS):
            ws = await stack.enter_async_context(live_server.connect(f"/ws/engagement/{tweet['tweet_id']}"))
            await next_engagement(ws, tweet)
            watchers.append(ws)
        # Observed once per group message written to two or more sockets.
        writes = metric_value(live_server, "realtime_fanout_write_seconds_count")
        live_server.engage(bob, tweet, "like")
        for ws in watchers:
            await next_engagement(ws, tweet, likes=1)
    assert metric_value(live_server, "realtime_fanout_write_seconds_count") > writes
    assert "without the fast path" not in live_server.log_tail(400)
