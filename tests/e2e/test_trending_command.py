"""`manage.py recompute_trending`, run as its own process, reaches the clients
of a live server through the shared Redis channel layer (PROTOCOL.md: an
operator's one-off recompute stores at once and broadcasts if it changed)."""

import asyncio
import uuid

import pytest

from .helpers import assert_trending, recv_data

pytestmark = pytest.mark.asyncio


def new_topic() -> str:
    return f"E2E{uuid.uuid4().hex[:8]}"


async def recompute(server) -> str:
    result = await asyncio.to_thread(server.manage, "recompute_trending")
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def post_topic(server, author, topic: str) -> None:
    # Three tweets: a topic needs a few (TRENDING_MIN_TWEETS) to be ranked.
    for number in range(3):
        server.post_tweet(author, f"tweet {number} about #{topic}")


def topics_of(data: dict) -> dict:
    assert_trending(data)
    return {topic["topic"]: topic for topic in data["topics"]}


async def test_recompute_command_broadcasts_new_topic_to_every_trending_client(live_server_redis):
    server = live_server_redis
    author = server.register()
    topic = new_topic()
    async with server.connect("/ws/trending") as first, server.connect("/ws/trending") as second:
        for ws in (first, second):
            assert topic not in topics_of(await recv_data(ws, "trending"))
        post_topic(server, author, topic)
        await recompute(server)
        for ws in (first, second):
            trending = await recv_data(ws, "trending")
            assert topics_of(trending)[topic]["tweet_count"] == 3
    status, latest = server.api("GET", "/api/trending/")
    assert status == 200 and latest == trending


async def test_unchanged_recompute_broadcasts_nothing(live_server_redis):
    server = live_server_redis
    author = server.register()
    server.post_tweet(author, f"something new: #{new_topic()}")
    await recompute(server)  # what is stored is now current
    async with server.connect("/ws/trending") as first, server.connect("/ws/trending") as second:
        for ws in (first, second):
            await recv_data(ws, "trending")
        output = await recompute(server)
        assert "unchanged" in output.lower(), output
        # The first trending message each client gets is a later, real change.
        later = new_topic()
        post_topic(server, author, later)
        await recompute(server)
        for ws in (first, second):
            assert later in topics_of(await recv_data(ws, "trending"))
