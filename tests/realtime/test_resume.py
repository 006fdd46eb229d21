"""Resume (PROTOCOL.md): `?since=` replays what was missed, then live, no gap, no duplicate."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from accounts.websocket import QUERY_CREDENTIALS
from feed import services as feed_services
from feed.streams import FeedStream
from notifications.models import Notification
from notifications.streams import NotificationsStream
from realtime_project.asgi import application
from realtime_project.realtime.consumers import StreamConsumer
from realtime_project.realtime.middleware.auth import StreamAuthMiddleware
from tests.communicator import DaphneCommunicator

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def notify(recipient, actor, count=1):
    return [
        Notification.objects.create(recipient=recipient, actor=actor, type="MENTION").pk for _ in range(count)
    ]


def serving(stream):
    """The application of one stream's endpoint, as asgi.py stacks it."""
    from channels.routing import URLRouter
    from django.urls import re_path

    route = re_path(rf"^ws/{stream.path}/?$", StreamConsumer.as_asgi(stream=stream))
    return StreamAuthMiddleware(URLRouter([route]), query_credentials=QUERY_CREDENTIALS)


async def connect(path, user, app=application) -> WebsocketCommunicator:
    token = await database_sync_to_async(lambda: Token.objects.get_or_create(user=user)[0].key)()
    separator = "&" if "?" in path else "?"
    communicator = DaphneCommunicator(app, f"{path}{separator}token={token}")
    assert (await communicator.connect())[0]
    return communicator


async def received_ids(communicator, key="notification_id"):
    ids = []
    while not await communicator.receive_nothing(timeout=0.2):
        frame = await communicator.receive_json_from()
        ids.append(frame["data"][key])
    return ids


async def test_notifications_since_replays_missed_oldest_first_then_live(alice, bob):
    seen, *missed = await notify(alice, bob, 4)
    communicator = await connect(f"/ws/notifications/{alice.pk}?since={seen}", alice)
    [live] = await notify(alice, bob)
    assert await received_ids(communicator) == [str(i) for i in [*missed, live]]
    await communicator.disconnect()


async def test_notification_committed_during_replay_is_sent_once(alice, bob):
    # A notification saved after the group was joined but before the
    # database was read is in both the replay and the live stream.
    [seen] = await notify(alice, bob)
    during = []

    class WriteRacingReplay(NotificationsStream):
        async def replay(self, subscription, since):
            during.extend(await notify(alice, bob))
            return await super().replay(subscription, since)

    app = serving(WriteRacingReplay())
    communicator = await connect(f"/ws/notifications/{alice.pk}?since={seen}", alice, app)
    assert await received_ids(communicator) == [str(during[0])]
    await communicator.disconnect()


async def test_replay_is_capped_and_the_client_is_told_to_reload(alice, bob, settings):
    settings.REALTIME_REPLAY_LIMIT = 3
    ids = await notify(alice, bob, 5)
    communicator = await connect(f"/ws/notifications/{alice.pk}?since=0", alice)
    warning = await communicator.receive_json_from()
    assert (warning["type"], warning["data"]["code"]) == ("error", "replay_truncated")
    assert await received_ids(communicator) == [str(i) for i in ids[-3:]]
    await communicator.disconnect()


async def test_bad_since_is_an_error_and_the_stream_still_works(alice, bob):
    communicator = await connect(f"/ws/notifications/{alice.pk}?since=yesterday", alice)
    assert (await communicator.receive_json_from())["data"]["code"] == "invalid_since"
    [live] = await notify(alice, bob)
    assert await received_ids(communicator) == [str(live)]
    await communicator.disconnect()


async def test_no_since_replays_nothing(alice, bob):
    await notify(alice, bob, 2)
    communicator = await connect(f"/ws/notifications/{alice.pk}", alice)
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


@database_sync_to_async
def post(author, text):
    return feed_services.tweet_create(author=author, content=text).pk


async def test_feed_since_replays_followed_tweets_in_one_update(alice, bob, carol):
    await database_sync_to_async(feed_services.follow_create)(follower=alice, followee=bob)
    seen = await post(bob, "seen")
    missed = await post(bob, "missed")
    await post(carol, "not followed")
    racing = []

    class PostRacingReplay(FeedStream):
        async def replay(self, subscription, since):
            racing.append(await post(bob, "during the replay"))
            return await super().replay(subscription, since)

    communicator = await connect(f"/ws/feed/{alice.pk}?since={seen}", alice, serving(PostRacingReplay()))
    replay = await communicator.receive_json_from()
    assert replay["type"] == "feed_update"
    assert [t["tweet_id"] for t in replay["data"]["tweets"]] == [str(missed), str(racing[0])]
    assert replay["data"]["count"] == 2
    live = await post(bob, "live")
    frame = await communicator.receive_json_from(timeout=2)
    assert [t["tweet_id"] for t in frame["data"]["tweets"]] == [str(live)]
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()
