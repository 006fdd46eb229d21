import pytest
from django.db import transaction

from engagement import groups, services
from engagement.models import Engagement
from feed import services as feed_services
from feed.models import Tweet

pytestmark = pytest.mark.django_db

LIKE = Engagement.Kind.LIKE


def counts(tweet) -> dict:
    tweet.refresh_from_db()
    return tweet.engagement


def updates_for(broadcasts, tweet) -> list[dict]:
    return [frame["data"] for frame in broadcasts.to(groups.tweet_watchers(tweet.pk))]


def test_like_updates_counter_and_watchers(broadcasts, alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    with broadcasts.committing():
        result = services.engagement_add(user=bob, tweet=tweet, kind=LIKE)
    expected = {
        "tweet_id": str(tweet.pk),
        "engagement": {"likes": 1, "replies": 0, "retweets": 0, "bookmarks": 0},
    }
    assert result == expected
    assert updates_for(broadcasts, tweet) == [expected]


def test_repeating_a_like_is_harmless(broadcasts, alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    with broadcasts.committing():
        services.engagement_add(user=bob, tweet=tweet, kind=LIKE)
        services.engagement_add(user=bob, tweet=tweet, kind=LIKE)
    assert counts(tweet)["likes"] == 1
    assert Engagement.objects.count() == 1
    assert len(updates_for(broadcasts, tweet)) == 1


def test_unlike_decrements_and_updates_watchers(broadcasts, alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    services.engagement_add(user=bob, tweet=tweet, kind=LIKE)
    with broadcasts.committing():
        result = services.engagement_remove(user=bob, tweet=tweet, kind=LIKE)
        services.engagement_remove(user=bob, tweet=tweet, kind=LIKE)
    assert result["engagement"]["likes"] == 0
    assert [u["engagement"]["likes"] for u in updates_for(broadcasts, tweet)] == [0]


def test_each_kind_has_its_own_counter(alice, bob, carol):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    for user in (bob, carol):
        for kind in Engagement.Kind:
            services.engagement_add(user=user, tweet=tweet, kind=kind)
    assert counts(tweet) == {"likes": 2, "replies": 0, "retweets": 2, "bookmarks": 2}


def test_reply_counts_on_parent_and_updates_its_watchers(broadcasts, alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    with broadcasts.committing():
        reply = feed_services.tweet_create(author=bob, content="hi", reply_to=tweet)
    assert counts(tweet)["replies"] == 1
    assert [u["engagement"]["replies"] for u in updates_for(broadcasts, tweet)] == [1]
    reply.delete()
    assert counts(tweet)["replies"] == 0


def test_counters_are_read_after_commit_not_before(broadcasts, alice, bob, carol):
    # Two likes in one transaction: watchers are told the committed total.
    tweet = feed_services.tweet_create(author=alice, content="hello")
    with broadcasts.committing():
        with transaction.atomic():
            services.engagement_add(user=bob, tweet=tweet, kind=LIKE)
            services.engagement_add(user=carol, tweet=tweet, kind=LIKE)
    assert [u["engagement"]["likes"] for u in updates_for(broadcasts, tweet)] == [2, 2]


def test_engagement_saved_outside_services_still_counts(alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    Engagement.objects.create(user=bob, tweet=tweet, kind=LIKE)
    assert counts(tweet)["likes"] == 1
    Engagement.objects.filter(user=bob).delete()
    assert counts(tweet)["likes"] == 0


def test_counter_never_goes_negative(alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    engagement = Engagement.objects.create(user=bob, tweet=tweet, kind=LIKE)
    Tweet.objects.filter(pk=tweet.pk).update(likes_count=0)
    engagement.delete()
    assert counts(tweet)["likes"] == 0


def test_rollback_leaves_counters_and_sends_nothing(broadcasts, alice, bob):
    tweet = feed_services.tweet_create(author=alice, content="hello")
    with broadcasts.committing():
        with pytest.raises(RuntimeError), transaction.atomic():
            services.engagement_add(user=bob, tweet=tweet, kind=LIKE)
            raise RuntimeError
    assert counts(tweet)["likes"] == 0
    assert broadcasts.sent == []
