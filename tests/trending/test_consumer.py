"""/ws/trending sends the latest snapshot at once."""

import pytest
from channels.db import database_sync_to_async

from realtime_project.realtime.consumers import StreamConsumer
from tests.communicator import DaphneCommunicator
from trending import services
from trending.streams import TRENDING

from .conftest import NOW, minutes_ago


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_new_connection_gets_the_latest_snapshot(post):
    for _ in range(3):
        await database_sync_to_async(post)("#AI", at=minutes_ago(1))
    await database_sync_to_async(services.trending_refresh)(now=NOW, broadcast=False)
    communicator = DaphneCommunicator(StreamConsumer.as_asgi(stream=TRENDING), "/ws/trending")
    connected, _ = await communicator.connect()
    assert connected
    message = await communicator.receive_json_from()
    assert message["type"] == "trending"
    assert message["data"] == {
        "topics": [{"topic": "AI", "tweet_count": 3, "engagement_score": 0.0, "growth_rate": 3.0}],
        "count": 1,
    }
    await communicator.disconnect()
