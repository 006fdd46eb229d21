"""The rolling counters follow tweets, replies and engagements as they are saved."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from engagement import services as engagement_services
from engagement.models import Engagement
from feed.models import Tweet
from trending.models import Topic, TopicBucket, TopicSpelling
from trending.windows import bucket_start

from .conftest import NOW, minutes_ago

pytestmark = pytest.mark.django_db


def counts(key: str, span: int = 60) -> dict:
    """{start: (tweets, engagements)} of the topic `key`'s rows `span` seconds wide."""
    return {
        bucket.start: (bucket.tweets, bucket.engagements)
        for bucket in TopicBucket.objects.filter(topic__key=key, span=span)
    }


def minute(at):
    return bucket_start(at, bucket_seconds=60)


def block(at):
    return bucket_start(at, bucket_seconds=600)


def test_a_tweet_counts_once_per_topic_in_the_bucket_of_its_creation(post):
    post("Shipping #AI today, more #ai tomorrow", at=NOW, topics=["Ai", "Product"])
    assert counts("ai") == {minute(NOW): (1, 0)}
    assert counts("ai", span=600) == {block(NOW): (1, 0)}
    assert counts("product") == {minute(NOW): (1, 0)}
    assert Topic.objects.count() == 2


def test_spellings_are_counted_per_tweet_under_one_canonical_key(post):
    post("#AI is here", at=NOW)
    post("#AI again", at=NOW)
    post("about #ai", at=NOW)
    post("no hashtag", at=NOW, topics=["Ai"])
    assert counts("ai") == {minute(NOW): (4, 0)}
    uses = dict(TopicSpelling.objects.values_list("spelling", "uses"))
    assert uses == {"AI": 2, "ai": 1, "Ai": 1}


def test_unicode_hashtags_and_punctuation_ending_them(post):
    post("Ça marche: #Café, #日本語! #Straße.", at=NOW)
    post("#CAFÉ? #STRASSE", at=NOW)
    assert set(Topic.objects.values_list("key", flat=True)) == {"café", "日本語", "strasse"}
    assert counts("café") == {minute(NOW): (2, 0)}
    assert counts("strasse") == {minute(NOW): (2, 0)}


def test_hashtags_with_combining_marks_and_compatibility_forms(post):
    post("#हिंदी and #ＡＩ", at=NOW)
    assert set(Topic.objects.values_list("key", flat=True)) == {"हिंदी", "ai"}


def test_a_like_counts_when_it_happens_for_the_topics_of_an_old_tweet(post, like):
    old = post("#AI retro", at=minutes_ago(300))
    like(old, at=NOW, count=3)
    assert counts("ai") == {minute(minutes_ago(300)): (1, 0), minute(NOW): (0, 3)}
    assert counts("ai", span=600) == {block(minutes_ago(300)): (1, 0), block(NOW): (0, 3)}


def test_undoing_a_like_takes_it_back_from_the_bucket_it_was_counted_in(post, person):
    tweet = post("#AI", at=minutes_ago(30))
    fan = person()
    Engagement.objects.create(user=fan, tweet=tweet, kind="LIKE", created_at=minutes_ago(10))
    engagement_services.engagement_remove(user=fan, tweet=tweet, kind="LIKE")
    assert counts("ai")[minute(minutes_ago(10))] == (0, 0)
    assert counts("ai", span=600)[block(minutes_ago(10))] == (0, 0)


def test_retweets_bookmarks_and_replies_count_as_engagement(post, like, person):
    tweet = post("#AI", at=minutes_ago(5))
    like(tweet, at=NOW, kind=Engagement.Kind.RETWEET)
    like(tweet, at=NOW, kind=Engagement.Kind.BOOKMARK)
    post("Agreed! #Rust", at=NOW, user=person(), reply_to=tweet)
    assert counts("ai") == {minute(minutes_ago(5)): (1, 0), minute(NOW): (0, 3)}
    assert counts("rust") == {minute(NOW): (1, 0)}


def test_deleting_a_tweet_takes_back_its_tweet_and_its_engagements(post, like):
    tweet = post("#AI", at=minutes_ago(5))
    like(tweet, at=NOW, count=2)
    tweet.delete()
    assert counts("ai") == {minute(minutes_ago(5)): (0, 0), minute(NOW): (0, 0)}
    assert TopicSpelling.objects.get().uses == 0


def test_a_rolled_back_tweet_counts_nothing(post):
    with pytest.raises(RuntimeError), transaction.atomic():
        post("#AI", at=NOW)
        raise RuntimeError("request failed")
    assert not TopicBucket.objects.exists()


def test_a_tweet_without_topics_touches_no_counter(post):
    post("just words, a#b and http://x.org/#frag", at=NOW)
    assert not Topic.objects.exists()


def test_counting_a_tweet_costs_the_same_however_busy_the_topic(post):
    for index in range(30):
        post("#AI #Rust", at=NOW - timedelta(seconds=index))
    with CaptureQueriesContext(connection) as queries:
        post("#AI #Rust", at=NOW)
    trending = [q["sql"] for q in queries if "trending_" in q["sql"]]
    # Topics upsert and their ids, then one upsert each for spellings and buckets.
    assert len(trending) == 4
    assert not [sql for sql in trending if "feed_tweet" in sql]


@pytest.mark.django_db(transaction=True)
def test_concurrent_tweets_and_likes_on_one_topic_all_count(person):
    """Threads with their own connections hit the same (new) bucket rows at once."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # Shared-cache in-memory SQLite fails at once ("table is locked")
        # where a file or PostgreSQL waits for the lock.
        pytest.skip("needs a database file or PostgreSQL (run with DATABASE_URL)")
    authors = [person() for _ in range(8)]
    seed = Tweet.objects.create(author=authors[0], content="#Race", topics=["Race"], created_at=NOW)
    barrier = threading.Barrier(len(authors))
    errors = []

    def work(user):
        try:
            barrier.wait()
            for _ in range(5):
                with transaction.atomic():
                    Tweet.objects.create(author=user, content="#race", topics=["race"], created_at=NOW)
            Engagement.objects.create(user=user, tweet=seed, kind="LIKE", created_at=NOW)
        except Exception as error:  # reported below: a thread's failure must fail the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(user,)) for user in authors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert counts("race") == {minute(NOW): (1 + 8 * 5, 8)}
    assert counts("race", span=600) == {block(NOW): (1 + 8 * 5, 8)}
