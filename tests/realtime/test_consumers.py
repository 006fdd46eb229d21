"""The base consumer, through the real ASGI application (auth, origin, routing)."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from engagement import services as engagement_services
from engagement.models import Engagement
from feed import services as feed_services
from realtime_project.asgi import application
from realtime_project.realtime.cluster.registry import registry
from tests.communicator import DaphneCommunicator

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def token_of(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


async def open_socket(
    path: str, *, origin: str | None = None, host: str | None = None
) -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode())] if origin else []
    if host:
        headers.append((b"host", host.encode()))
    communicator = DaphneCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def close_code(communicator: WebsocketCommunicator) -> int:
    output = await communicator.receive_output(timeout=2)
    assert output["type"] == "websocket.close"
    return output["code"]


async def test_anonymous_notifications_are_closed_with_4401(alice):
    communicator = await open_socket(f"/ws/notifications/{alice.pk}")
    assert await close_code(communicator) == 4401


async def test_another_users_feed_is_closed_with_4403(alice, bob):
    communicator = await open_socket(f"/ws/feed/{alice.pk}?token={await token_of(bob)}")
    assert await close_code(communicator) == 4403


async def test_wrong_token_is_not_authenticated(alice):
    communicator = await open_socket(f"/ws/notifications/{alice.pk}?token=nope")
    assert await close_code(communicator) == 4401


@pytest.mark.parametrize("path", ["/ws/engagement/999999", "/ws/engagement/abc", "/ws/nothing/here"])
async def test_unknown_tweet_or_stream_is_closed_with_4404(db, path):
    communicator = await open_socket(path)
    assert await close_code(communicator) == 4404


async def test_owner_receives_notification_after_commit(alice, bob):
    communicator = await open_socket(f"/ws/notifications/{alice.pk}?token={await token_of(alice)}")
    tweet = await database_sync_to_async(feed_services.tweet_create)(author=alice, content="hi")
    await database_sync_to_async(engagement_services.engagement_add)(
        user=bob, tweet=tweet, kind=Engagement.Kind.LIKE
    )
    frame = await communicator.receive_json_from(timeout=2)
    assert frame["type"] == "notification"
    assert frame["data"]["type"] == "LIKE"
    assert frame["data"]["actor_id"] == str(bob.pk)
    await communicator.disconnect()


async def test_under_another_server_a_stream_runs_channels_own_loop_and_still_delivers(alice, bob):
    # WebsocketCommunicator's input is an asyncio.Queue, as under uvicorn:
    # StreamConsumer.serve needs Daphne's Inbox, so Channels' loop runs.
    token = await token_of(alice)
    communicator = WebsocketCommunicator(application, f"/ws/notifications/{alice.pk}?token={token}")
    assert (await communicator.connect())[0]
    tweet = await database_sync_to_async(feed_services.tweet_create)(author=alice, content="hi")
    await database_sync_to_async(engagement_services.engagement_add)(
        user=bob, tweet=tweet, kind=Engagement.Kind.LIKE
    )
    assert (await communicator.receive_json_from(timeout=2))["type"] == "notification"
    await communicator.send_to(text_data="ping")
    assert (await communicator.receive_json_from())["type"] == "pong"
    await communicator.disconnect()


@pytest.mark.parametrize(
    "communicator_class, tasks_of_its_own", [(DaphneCommunicator, 1), (WebsocketCommunicator, 3)]
)
async def test_a_stream_under_daphne_waits_for_both_its_sources_without_a_task_per_source(
    db, communicator_class, tasks_of_its_own
):
    warm_up = await open_socket("/ws/trending")  # background tasks start on the first request
    await warm_up.receive_json_from()
    before = asyncio.all_tasks()
    communicator = communicator_class(application, "/ws/trending")
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["type"] == "trending"
    await asyncio.sleep(0.05)
    assert len(asyncio.all_tasks() - before) == tasks_of_its_own
    await communicator.disconnect()
    await warm_up.disconnect()


@pytest.mark.parametrize("ping", ["ping", '{"type": "ping"}'])
async def test_ping_is_answered_with_pong(db, ping):
    communicator = await open_socket("/ws/trending")
    assert (await communicator.receive_json_from())["type"] == "trending"
    await communicator.send_to(text_data=ping)
    pong = await communicator.receive_json_from()
    assert pong["type"] == "pong" and pong["timestamp"].endswith("Z")
    await communicator.disconnect()


@pytest.mark.parametrize(
    "text, code",
    [("{not json", "invalid_json"), ("[1, 2]", "invalid_message"), ('{"type": "dance"}', "unknown_type")],
)
async def test_bad_input_gets_an_error_frame_and_the_connection_stays_open(db, text, code):
    communicator = await open_socket("/ws/trending")
    await communicator.receive_json_from()
    await communicator.send_to(text_data=text)
    error = await communicator.receive_json_from()
    assert error["type"] == "error" and error["data"]["code"] == code
    await communicator.send_to(text_data="ping")
    assert (await communicator.receive_json_from())["type"] == "pong"
    await communicator.disconnect()


async def test_binary_frame_gets_an_error_frame(db):
    communicator = await open_socket("/ws/trending")
    await communicator.receive_json_from()
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await communicator.receive_json_from())["data"]["code"] == "unsupported_frame"
    await communicator.disconnect()


async def test_foreign_origin_is_refused_before_accept(db):
    communicator = DaphneCommunicator(
        application, "/ws/trending", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected


@pytest.mark.parametrize(
    "origin, host",
    [(None, None), ("http://localhost:8000", "localhost:8000"), ("http://127.0.0.1:9999", "127.0.0.1:9999")],
)
async def test_allowed_or_missing_origin_is_accepted(db, origin, host):
    communicator = await open_socket("/ws/trending", origin=origin, host=host)
    assert (await communicator.receive_json_from())["type"] == "trending"
    await communicator.disconnect()


async def test_another_port_of_the_served_host_is_refused_before_accept(db):
    communicator = DaphneCommunicator(
        application,
        "/ws/trending",
        headers=[(b"origin", b"http://127.0.0.1:9999"), (b"host", b"127.0.0.1:8000")],
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_stats_count_user_and_global_connections(alice):
    before = registry.snapshot()
    token = await token_of(alice)
    notifications = await open_socket(f"/ws/notifications/{alice.pk}?token={token}")
    feed = await open_socket(f"/ws/feed/{alice.pk}?token={token}")
    trending = await open_socket("/ws/trending")
    await trending.receive_json_from()
    during = registry.snapshot()
    assert during["active_users"] - before["active_users"] == 1
    assert during["total_user_connections"] - before["total_user_connections"] == 2
    assert during["global_connections"] - before["global_connections"] == 1
    assert during["total_connections"] - before["total_connections"] == 3
    for communicator in (notifications, feed, trending):
        await communicator.disconnect()
    assert registry.snapshot() == before


async def test_refused_connection_is_not_counted(alice, bob):
    before = registry.snapshot()
    communicator = await open_socket(f"/ws/notifications/{alice.pk}?token={await token_of(bob)}")
    assert await close_code(communicator) == 4403
    assert registry.snapshot() == before
