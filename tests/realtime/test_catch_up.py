"""Open streams catch up after the channel layer lost messages, and a
consumer Daphne cancels forgets its connection.

Through the real ASGI application and the in-memory layer; the Redis
subscription drop itself is in tests/e2e/test_slow_client.py.
"""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from feed import groups as feed_groups
from realtime_project.asgi import application
from realtime_project.realtime.cluster.registry import registry
from realtime_project.realtime.layers.watch import catch_up_open_streams
from tests.communicator import DaphneCommunicator

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def token_of(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


async def subscribed(path: str) -> WebsocketCommunicator:
    """A connection whose consumer has finished connect() (it answered a ping)."""
    communicator = DaphneCommunicator(application, path)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_to(text_data="ping")
    while (await communicator.receive_json_from(timeout=2))["type"] != "pong":
        pass
    return communicator


async def test_streams_of_rows_close_with_4429_so_their_clients_resume(alice):
    token = await token_of(alice)
    feed = await subscribed(f"/ws/feed/{alice.pk}?token={token}")
    notifications = await subscribed(f"/ws/notifications/{alice.pk}?token={token}")

    assert await catch_up_open_streams() == 2

    for communicator in (feed, notifications):
        output = await communicator.receive_output(timeout=2)
        assert output["type"] == "websocket.close"
        assert output["code"] == 4429
        assert "resume" in output["reason"]
    assert registry.connections_of(alice.pk) == 0


async def test_snapshot_streams_send_their_snapshot_again_and_stay_open(db):
    trending = await subscribed("/ws/trending")

    assert await catch_up_open_streams() == 1

    assert (await trending.receive_json_from(timeout=2))["type"] == "trending"
    await trending.send_to(text_data="ping")
    assert (await trending.receive_json_from(timeout=2))["type"] == "pong"
    await trending.disconnect()


async def test_a_cancelled_consumer_forgets_its_connection_and_leaves_its_groups(alice):
    # Daphne cancels an application that overruns its handshake or close
    # timeout; disconnect() never runs then.
    feed = await subscribed(f"/ws/feed/{alice.pk}?token={await token_of(alice)}")
    layer = get_channel_layer()
    group = feed_groups.user_feed(alice.pk)
    assert registry.connections_of(alice.pk) == 1
    assert layer.groups.get(group)

    feed.future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await feed.future

    assert registry.connections_of(alice.pk) == 0
    assert not layer.groups.get(group)
    assert await catch_up_open_streams() == 0
