"""Limits: connections per user, messages per second, frame size, typing changes."""

import pytest
from channels.db import database_sync_to_async
from rest_framework.authtoken.models import Token

from feed import services as feed_services
from realtime_project.asgi import application
from tests.communicator import DaphneCommunicator

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def connect(path, user=None):
    if user is not None:
        token = await database_sync_to_async(lambda: Token.objects.get_or_create(user=user)[0].key)()
        path += f"?token={token}"
    communicator = DaphneCommunicator(application, path)
    assert (await communicator.connect())[0]
    return communicator


async def next_frame(communicator):
    output = await communicator.receive_output(timeout=2)
    return output


async def test_connections_over_the_per_user_limit_are_closed_with_4429(alice, settings):
    settings.REALTIME_MAX_CONNECTIONS_PER_USER = 2
    first = await connect(f"/ws/notifications/{alice.pk}", alice)
    second = await connect(f"/ws/feed/{alice.pk}", alice)
    third = await connect(f"/ws/notifications/{alice.pk}", alice)
    assert (await next_frame(third))["code"] == 4429
    await first.disconnect()
    fourth = await connect(f"/ws/notifications/{alice.pk}", alice)
    assert await fourth.receive_nothing(timeout=0.1)
    # Public streams (a page watches every tweet it shows) do not count.
    tweet = await database_sync_to_async(feed_services.tweet_create)(author=alice, content="hi")
    watching = await connect(f"/ws/engagement/{tweet.pk}", alice)
    assert (await watching.receive_json_from())["type"] == "engagement_update"
    for communicator in (second, fourth, watching):
        await communicator.disconnect()


async def test_flood_gets_error_frames_then_4429(db, settings):
    settings.REALTIME_MESSAGES_PER_SECOND = 1
    settings.REALTIME_MESSAGES_BURST = 3
    communicator = await connect("/ws/trending")
    await communicator.receive_json_from()
    for _ in range(3):
        await communicator.send_to(text_data="ping")
        assert (await communicator.receive_json_from())["type"] == "pong"
    for _ in range(3):
        await communicator.send_to(text_data="ping")
        error = await communicator.receive_json_from()
        assert (error["type"], error["data"]["code"]) == ("error", "rate_limited")
    await communicator.send_to(text_data="ping")
    assert (await next_frame(communicator)) == {
        "type": "websocket.close",
        "code": 4429,
        "reason": "too many messages",
    }


async def test_oversized_message_closes_with_1009(db, settings):
    settings.REALTIME_MAX_MESSAGE_BYTES = 100
    communicator = await connect("/ws/trending")
    await communicator.receive_json_from()
    await communicator.send_to(text_data='{"type":"ping","pad":"' + "x" * 200 + '"}')
    assert (await next_frame(communicator))["code"] == 1009


async def test_typing_flapping_is_rate_limited(alice, settings):
    settings.REALTIME_TYPING_CHANGES_PER_SECOND = 1
    tweet = await database_sync_to_async(feed_services.tweet_create)(author=alice, content="hi")
    communicator = await connect(f"/ws/engagement/{tweet.pk}", alice)
    await communicator.receive_json_from()
    for is_typing in (True, False):
        await communicator.send_json_to({"type": "typing", "is_typing": is_typing})
    await communicator.send_json_to({"type": "typing", "is_typing": True})
    error = await communicator.receive_json_from()
    assert error["data"]["code"] == "rate_limited"
    await communicator.disconnect()
