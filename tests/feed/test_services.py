import pytest
from django.core.exceptions import ValidationError

from feed import groups, services
from feed.models import Follow

pytestmark = pytest.mark.django_db


def test_post_reaches_each_online_follower_feed_once(broadcasts, online, alice, bob, carol):
    services.follow_create(follower=bob, followee=alice)
    services.follow_create(follower=carol, followee=alice)
    online(bob)
    online(carol)
    with broadcasts.committing():
        tweet = services.tweet_create(author=alice, content="news #Launch", topics=["Product"])
    updates = broadcasts.of_kind("feed_update")
    assert sorted(group for group, _ in updates) == sorted(
        [groups.user_feed(bob.pk), groups.user_feed(carol.pk)]
    )
    data = updates[0][1]["data"]
    assert data["count"] == 1
    assert data["tweets"][0] == {
        "tweet_id": str(tweet.pk),
        "author_id": str(alice.pk),
        "author_name": "Alice Founder",
        "content": "news #Launch",
        "topics": ["Product", "Launch"],
        "reply_to": None,
        "engagement": {"likes": 0, "replies": 0, "retweets": 0, "bookmarks": 0},
        "created_at": data["tweets"][0]["created_at"],
    }


def test_post_without_followers_sends_no_feed_update(broadcasts, alice):
    with broadcasts.committing():
        services.tweet_create(author=alice, content="anyone?")
    assert broadcasts.of_kind("feed_update") == []


def test_reply_reaches_the_repliers_followers(broadcasts, online, alice, bob, carol):
    services.follow_create(follower=carol, followee=bob)
    online(carol)
    tweet = services.tweet_create(author=alice, content="question")
    with broadcasts.committing():
        reply = services.tweet_create(author=bob, content="answer", reply_to=tweet)
    [(group, frame)] = broadcasts.of_kind("feed_update")
    assert group == groups.user_feed(carol.pk)
    assert frame["data"]["tweets"][0]["reply_to"] == str(tweet.pk)
    assert frame["data"]["tweets"][0]["tweet_id"] == str(reply.pk)


@pytest.mark.parametrize("content", ["", "   ", "x" * 281])
def test_empty_or_over_long_tweet_is_refused(alice, content):
    with pytest.raises(ValidationError):
        services.tweet_create(author=alice, content=content)


def test_following_twice_is_harmless_and_self_follow_is_refused(alice, bob):
    services.follow_create(follower=bob, followee=alice)
    services.follow_create(follower=bob, followee=alice)
    assert Follow.objects.count() == 1
    with pytest.raises(ValidationError):
        services.follow_create(follower=alice, followee=alice)


def test_unfollow_stops_feed_updates(broadcasts, online, alice, bob):
    services.follow_create(follower=bob, followee=alice)
    online(bob)
    assert services.follow_delete(follower=bob, followee=alice) is True
    assert services.follow_delete(follower=bob, followee=alice) is False
    with broadcasts.committing():
        services.tweet_create(author=alice, content="hello?")
    assert broadcasts.of_kind("feed_update") == []


def test_post_goes_only_to_followers_with_a_feed_open(broadcasts, online, alice, bob, carol):
    services.follow_create(follower=bob, followee=alice)
    services.follow_create(follower=carol, followee=alice)
    online(bob)
    online(carol, stream="notifications")
    with broadcasts.committing():
        services.tweet_create(author=alice, content="who is here?")
    assert [group for group, _ in broadcasts.of_kind("feed_update")] == [groups.user_feed(bob.pk)]


def test_follower_who_comes_online_before_the_commit_gets_the_tweet(broadcasts, online, alice, bob):
    # Their replay read the database before the tweet was committed: only
    # the live send can bring it, so who is online is decided at commit.
    from django.db import transaction

    services.follow_create(follower=bob, followee=alice)
    with broadcasts.committing():
        with transaction.atomic():
            services.tweet_create(author=alice, content="racing a reconnect")
            online(bob)
    assert [group for group, _ in broadcasts.of_kind("feed_update")] == [groups.user_feed(bob.pk)]
