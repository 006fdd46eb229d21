import pytest
from django.core.exceptions import ValidationError

from feed import groups, services
from feed.models import Follow, Tweet

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


@pytest.mark.parametrize("content", ["\u200b\u200b", "\ufeff", "\u202eecila@", "\u3164", "\u2800"])
def test_unreadable_tweet_is_refused_by_the_service_itself(broadcasts, online, alice, bob, content):
    # Commands call the service, not the API: it must refuse alike.
    services.follow_create(follower=bob, followee=alice)
    online(bob)
    with broadcasts.committing(), pytest.raises(ValidationError) as refused:
        services.tweet_create(author=alice, content=content)
    assert list(refused.value.message_dict) == ["content"]
    assert not Tweet.objects.exists()
    assert broadcasts.of_kind("feed_update") == []


@pytest.mark.parametrize("topic", ["\u200b", "\u202eIA", "\u3164"])
def test_unreadable_explicit_topic_is_refused_with_a_topics_error(alice, topic):
    with pytest.raises(ValidationError) as refused:
        services.tweet_create(author=alice, content="fine", topics=["ok", topic])
    assert list(refused.value.message_dict) == ["topics"]
    assert not Tweet.objects.exists()


def test_length_is_counted_after_normalising(alice):
    # NFC turns U+0958 into two code points (it is excluded from composition).
    with pytest.raises(ValidationError):
        services.tweet_create(author=alice, content="\u0958" * 200)
    assert services.tweet_create(author=alice, content=" e\u0301 ").content == "\u00e9"


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
