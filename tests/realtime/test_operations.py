import pytest

from realtime_project.asgi import application
from tests.communicator import DaphneCommunicator


def test_healthz_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_readyz_checks_database_and_channel_layer(client):
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


@pytest.mark.django_db(transaction=True)
def test_readyz_is_503_when_the_channel_layer_is_down(client, settings, redis_server):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0", "socket_connect_timeout": 0.5}]},
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["channel_layer"] == "unavailable"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_metrics_count_open_connections(client, alice):
    from asgiref.sync import sync_to_async
    from channels.db import database_sync_to_async

    from feed import services

    tweet = await database_sync_to_async(services.tweet_create)(author=alice, content="hi")
    communicator = DaphneCommunicator(application, f"/ws/engagement/{tweet.pk}")
    await communicator.connect()
    await communicator.receive_json_from()
    body = (await sync_to_async(client.get)("/metrics")).content.decode()
    await communicator.disconnect()
    assert 'realtime_connections_open{stream="engagement"} 1.0' in body
    assert "realtime_broadcast_latency_seconds_bucket" in body


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_connection_log_lines_never_hold_the_token(alice, caplog):
    from channels.db import database_sync_to_async
    from rest_framework.authtoken.models import Token

    token = await database_sync_to_async(lambda: Token.objects.create(user=alice).key)()
    with caplog.at_level("INFO", logger="realtime_project.realtime.consumers.stream"):
        communicator = DaphneCommunicator(application, f"/ws/notifications/{alice.pk}?token={token}")
        await communicator.connect()
        await communicator.disconnect()
    assert f"connected notifications /ws/notifications/{alice.pk} user={alice.pk}" in caplog.text
    assert "disconnected notifications" in caplog.text
    assert token not in caplog.text
