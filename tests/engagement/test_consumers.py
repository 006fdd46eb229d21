import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from engagement import services
from engagement.models import Engagement
from feed import services as feed_services
from realtime_project.asgi import application
from tests.communicator import DaphneCommunicator

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def quick_typing_timeout(settings):
    settings.REALTIME_TYPING_TIMEOUT_SECONDS = 0.2


@database_sync_to_async
def tweet_by(user):
    return feed_services.tweet_create(author=user, content="watch me")


async def watch(tweet, user=None) -> WebsocketCommunicator:
    path = f"/ws/engagement/{tweet.pk}"
    if user is not None:
        token = await database_sync_to_async(lambda: Token.objects.get_or_create(user=user)[0].key)()
        path += f"?token={token}"
    communicator = DaphneCommunicator(application, path)
    assert (await communicator.connect())[0]
    snapshot = await communicator.receive_json_from()
    assert snapshot["type"] == "engagement_update"
    return communicator


async def test_connect_sends_the_current_counts(alice, bob):
    tweet = await tweet_by(alice)
    await database_sync_to_async(services.engagement_add)(user=bob, tweet=tweet, kind=Engagement.Kind.LIKE)
    communicator = DaphneCommunicator(application, f"/ws/engagement/{tweet.pk}")
    await communicator.connect()
    snapshot = await communicator.receive_json_from()
    assert snapshot["data"] == {
        "tweet_id": str(tweet.pk),
        "engagement": {"likes": 1, "replies": 0, "retweets": 0, "bookmarks": 0},
    }
    await communicator.disconnect()


async def test_like_updates_every_watcher(alice, bob):
    tweet = await tweet_by(alice)
    first, second = await watch(tweet), await watch(tweet)
    await database_sync_to_async(services.engagement_add)(user=bob, tweet=tweet, kind=Engagement.Kind.LIKE)
    for communicator in (first, second):
        update = await communicator.receive_json_from(timeout=2)
        assert update["data"]["engagement"]["likes"] == 1
        await communicator.disconnect()


async def test_typing_reaches_other_watchers_but_not_the_typist(alice, bob, quick_typing_timeout):
    tweet = await tweet_by(alice)
    typist, watcher = await watch(tweet, bob), await watch(tweet, alice)
    await typist.send_json_to({"type": "typing", "is_typing": True})
    typing = await watcher.receive_json_from(timeout=2)
    assert typing["type"] == "typing"
    assert typing["data"] == {
        "tweet_id": str(tweet.pk),
        "user_id": str(bob.pk),
        "user_name": "Bob Builder",
        "is_typing": True,
    }
    assert await typist.receive_nothing(timeout=0.1)
    await typist.disconnect()
    await watcher.disconnect()


async def test_quiet_typist_is_reported_stopped(alice, bob, quick_typing_timeout):
    tweet = await tweet_by(alice)
    typist, watcher = await watch(tweet, bob), await watch(tweet, alice)
    await typist.send_json_to({"type": "typing", "is_typing": True})
    await typist.send_json_to({"type": "typing", "is_typing": True})
    assert (await watcher.receive_json_from(timeout=2))["data"]["is_typing"] is True
    stopped = await watcher.receive_json_from(timeout=2)
    assert stopped["data"]["is_typing"] is False
    assert await watcher.receive_nothing(timeout=0.3)
    await typist.disconnect()
    await watcher.disconnect()


async def test_typist_who_disconnects_is_reported_stopped(alice, bob):
    tweet = await tweet_by(alice)
    typist, watcher = await watch(tweet, bob), await watch(tweet, alice)
    await typist.send_json_to({"type": "typing", "is_typing": True})
    assert (await watcher.receive_json_from(timeout=2))["data"]["is_typing"] is True
    await typist.disconnect()
    assert (await watcher.receive_json_from(timeout=2))["data"]["is_typing"] is False
    await watcher.disconnect()


async def test_anonymous_typing_gets_an_error(alice):
    tweet = await tweet_by(alice)
    anonymous = await watch(tweet)
    await anonymous.send_json_to({"type": "typing", "is_typing": True})
    error = await anonymous.receive_json_from()
    assert (error["type"], error["data"]["code"]) == ("error", "unauthenticated")
    await anonymous.disconnect()


async def test_typing_without_a_boolean_gets_an_error(alice):
    tweet = await tweet_by(alice)
    typist = await watch(tweet, alice)
    await typist.send_json_to({"type": "typing", "is_typing": "yes"})
    assert (await typist.receive_json_from())["data"]["code"] == "invalid_message"
    await typist.disconnect()


async def test_burst_of_likes_is_coalesced_and_the_last_update_has_final_counts(alice, make_user, settings):
    settings.REALTIME_ENGAGEMENT_COALESCE_SECONDS = 0.3
    tweet = await tweet_by(alice)
    fans = [await database_sync_to_async(make_user)() for _ in range(4)]
    watcher = await watch(tweet)
    for fan in fans:
        await database_sync_to_async(services.engagement_add)(
            user=fan, tweet=tweet, kind=Engagement.Kind.LIKE
        )
    first = await watcher.receive_json_from(timeout=1)
    assert first["data"]["engagement"]["likes"] == 1
    last = await watcher.receive_json_from(timeout=2)
    assert last["data"]["engagement"]["likes"] == 4
    assert await watcher.receive_nothing(timeout=0.5)
    await watcher.disconnect()


async def handled(communicator):
    """Return once the consumer handled what was sent before (its pong)."""
    await communicator.send_to(text_data="ping")
    while (await communicator.receive_json_from(timeout=2))["type"] != "pong":
        pass


async def test_typing_record_is_released_with_the_users_last_socket_on_the_tweet(alice, bob):
    # One record per user and tweet holds the shared budget; it must not
    # outlive the sockets, or the process would keep one per typist ever seen.
    tweet = await tweet_by(alice)
    first, second = await watch(tweet, bob), await watch(tweet, bob)
    await first.send_json_to({"type": "typing", "is_typing": True})
    await second.send_json_to({"type": "typing", "is_typing": True})
    await handled(first)
    await handled(second)
    assert set(services._typists) == {(bob.pk, tweet.pk)}
    await first.disconnect()
    assert set(services._typists) == {(bob.pk, tweet.pk)}
    await second.disconnect()
    assert services._typists == {}
