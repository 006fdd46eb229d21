import pytest
from django.db import transaction

from engagement import services as engagement_services
from engagement.models import Engagement
from feed import services as feed_services
from notifications import groups
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def notifications_sent(broadcasts, user):
    return [frame["data"] for frame in broadcasts.to(groups.user_notifications(user.pk))]


def test_like_notifies_tweet_author(broadcasts, alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    with broadcasts.committing():
        engagement_services.engagement_add(user=bob, tweet=tweet, kind=Engagement.Kind.LIKE)
    [sent] = notifications_sent(broadcasts, alice)
    notification = Notification.objects.get(recipient=alice)
    assert sent == {
        "notification_id": str(notification.pk),
        "type": "LIKE",
        "actor_id": str(bob.pk),
        "actor_name": "Bob Builder",
        "tweet_id": str(tweet.pk),
        "read": False,
        "created_at": sent["created_at"],
    }
    assert sent["created_at"].endswith("Z")


def test_retweet_notifies_tweet_author(broadcasts, alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    with broadcasts.committing():
        engagement_services.engagement_add(user=bob, tweet=tweet, kind=Engagement.Kind.RETWEET)
    assert [n["type"] for n in notifications_sent(broadcasts, alice)] == ["RETWEET"]


def test_bookmark_notifies_nobody(broadcasts, alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    with broadcasts.committing():
        engagement_services.engagement_add(user=bob, tweet=tweet, kind=Engagement.Kind.BOOKMARK)
    assert broadcasts.of_kind("notification") == []
    assert not Notification.objects.exists()


def test_reply_notifies_parent_author(broadcasts, alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    with broadcasts.committing():
        reply = feed_services.tweet_create(author=bob, content="hi back", reply_to=tweet)
    [sent] = notifications_sent(broadcasts, alice)
    assert (sent["type"], sent["tweet_id"]) == ("REPLY", str(reply.pk))


def test_reply_that_also_mentions_the_parent_author_notifies_once(broadcasts, alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    with broadcasts.committing():
        feed_services.tweet_create(author=bob, content="@alice hi back", reply_to=tweet)
    assert [n["type"] for n in notifications_sent(broadcasts, alice)] == ["REPLY"]


def test_follow_notifies_followee(broadcasts, alice, bob):
    with broadcasts.committing():
        feed_services.follow_create(follower=bob, followee=alice)
    [sent] = notifications_sent(broadcasts, alice)
    assert (sent["type"], sent["actor_id"], sent["tweet_id"]) == ("FOLLOW", str(bob.pk), None)


def test_mention_notifies_each_named_user_case_insensitively(broadcasts, alice, bob, carol):
    with broadcasts.committing():
        feed_services.tweet_create(author=bob, content="thanks @Alice and @carol. and @nobody")
    assert [n["type"] for n in notifications_sent(broadcasts, alice)] == ["MENTION"]
    assert [n["type"] for n in notifications_sent(broadcasts, carol)] == ["MENTION"]
    assert Notification.objects.count() == 2


def test_own_actions_notify_nobody(broadcasts, alice):
    with broadcasts.committing():
        tweet = feed_services.tweet_create(author=alice, content="me, @alice")
        feed_services.tweet_create(author=alice, content="replying to myself", reply_to=tweet)
        engagement_services.engagement_add(user=alice, tweet=tweet, kind=Engagement.Kind.LIKE)
    assert broadcasts.of_kind("notification") == []
    assert not Notification.objects.exists()


def test_like_again_after_unlike_does_not_notify_twice(broadcasts, alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    with broadcasts.committing():
        engagement_services.engagement_add(user=bob, tweet=tweet, kind=Engagement.Kind.LIKE)
        engagement_services.engagement_remove(user=bob, tweet=tweet, kind=Engagement.Kind.LIKE)
        engagement_services.engagement_add(user=bob, tweet=tweet, kind=Engagement.Kind.LIKE)
    assert len(notifications_sent(broadcasts, alice)) == 1


def test_rollback_broadcasts_nothing(broadcasts, alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    with broadcasts.committing():
        with pytest.raises(RuntimeError), transaction.atomic():
            engagement_services.engagement_add(user=bob, tweet=tweet, kind=Engagement.Kind.LIKE)
            feed_services.follow_create(follower=bob, followee=alice)
            raise RuntimeError("the request failed after the writes")
    assert broadcasts.sent == []
    assert not Notification.objects.exists()


def test_notification_saved_directly_is_broadcast(broadcasts, alice, bob):
    with broadcasts.committing():
        Notification.objects.create(recipient=alice, actor=bob, type=Notification.Type.FOLLOW)
    assert [n["type"] for n in notifications_sent(broadcasts, alice)] == ["FOLLOW"]


def test_marking_read_broadcasts_nothing(broadcasts, alice, bob):
    from notifications import services

    notification = Notification.objects.create(recipient=alice, actor=bob, type="FOLLOW")
    with broadcasts.committing():
        assert services.notification_mark_read(user=alice, notification_id=notification.pk) == 1
        assert services.notification_mark_read(user=bob, notification_id=notification.pk) == 0
    assert broadcasts.sent == []
