"""Writes of the rolling topic counters, called by the signal receivers.

Every increment is one `INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`
per table (SQLite >= 3.24 and PostgreSQL spell it alike): the database adds,
so concurrent tweets and likes on one topic never overwrite each other, and a
rollback of the transaction that caused them takes the counts back too. Rows
are written in key order so that two transactions touching the same topics
lock them in the same order and cannot deadlock.
"""

from datetime import datetime

from django.db import connections, router
from django.db.models import F, Q
from django.db.models.functions import Greatest

from feed.models import Tweet
from feed.parsing import topic_key, tweet_topics

from .. import conf
from ..models import KEY_MAX_LENGTH, Topic, TopicBucket, TopicSpelling
from ..windows import BLOCK_BUCKETS, bucket_start, bucket_time


def tweet_topic_spellings(tweet: Tweet) -> dict[str, str]:
    """Return `{key: spelling}` for the tweet's explicit topics and #hashtags."""
    spellings = tweet_topics(tweet.content, tweet.topics if isinstance(tweet.topics, list) else [])
    return {topic_key(s)[:KEY_MAX_LENGTH]: s[:KEY_MAX_LENGTH] for s in spellings}


def topic_tweet_counted(*, tweet: Tweet, delta: int) -> None:
    """Count `tweet` (`delta` +1) or take it back (-1) in its topics' counters.

    The tweet counts in the bucket of its `created_at`, and each spelling it
    used counts toward its topic's display name. A reply is also engagement
    with the tweet it answers, made when the reply was.
    """
    if tweet.reply_to_id is not None:
        topic_engagement_counted(tweet_id=tweet.reply_to_id, at=tweet.created_at, delta=delta)
    topics = tweet_topic_spellings(tweet)
    if not topics:
        return
    keys = sorted(topics)
    if delta > 0:
        ids = _topics_touch(keys=keys, at=tweet.created_at)
        _add(TopicSpelling, ("topic", "spelling"), ("uses",), [(ids[k], topics[k], 1) for k in keys])
        _buckets_add(ids=[ids[k] for k in keys], at=tweet.created_at, tweets=1, engagements=0)
    elif delta < 0:
        for key in keys:
            TopicSpelling.objects.filter(topic__key=key, spelling=topics[key]).update(
                uses=Greatest(F("uses") + delta, 0)
            )
        _buckets_subtract(keys=keys, at=tweet.created_at, tweets=-delta, engagements=0)


def topic_engagement_counted(*, tweet_id: int, at: datetime, delta: int) -> None:
    """Count one engagement (`delta` +1) with tweet `tweet_id` made `at`, or take it back.

    It counts in the bucket of when it happened, for the topics of the tweet,
    however old the tweet: a topic whose tweets are being liked now is active
    now. Taking it back uses the same bucket, so an unlike cancels its like.
    """
    tweet = Tweet.objects.filter(pk=tweet_id).only("content", "topics").first()
    topics = tweet_topic_spellings(tweet) if tweet is not None else {}
    if not topics:
        return
    keys = sorted(topics)
    if delta > 0:
        ids = _topics_touch(keys=keys, at=at)
        _buckets_add(ids=[ids[k] for k in keys], at=at, tweets=0, engagements=1)
    elif delta < 0:
        _buckets_subtract(keys=keys, at=at, tweets=0, engagements=-delta)


def _spans(at: datetime) -> list[tuple[int, int]]:
    """The (span, start) of the bucket and of the block holding `at`."""
    bucket = conf.bucket_seconds()
    block = bucket * BLOCK_BUCKETS
    return [
        (bucket, bucket_start(at, bucket_seconds=bucket)),
        (block, bucket_start(at, bucket_seconds=block)),
    ]


def _buckets_add(*, ids: list[int], at: datetime, tweets: int, engagements: int) -> None:
    rows = [
        (topic_id, span, start, tweets, engagements) for topic_id in sorted(ids) for span, start in _spans(at)
    ]
    _add(TopicBucket, ("topic", "span", "start"), ("tweets", "engagements"), rows)


def _buckets_subtract(*, keys: list[str], at: datetime, tweets: int, engagements: int) -> None:
    # A bucket already pruned has nothing left to take back: no row, no update.
    spans = Q()
    for span, start in _spans(at):
        spans |= Q(span=span, start=start)
    TopicBucket.objects.filter(spans, topic__key__in=keys).update(
        tweets=Greatest(F("tweets") - tweets, 0),
        engagements=Greatest(F("engagements") - engagements, 0),
    )


def _topics_touch(*, keys: list[str], at: datetime) -> dict[str, int]:
    """Make sure a Topic exists for each key, seen at least at `at`'s bucket; return their ids.

    Moving `last_seen_at` forward locks the row until commit, so the prune's
    DELETE (which re-checks it) cannot remove a topic that is being counted.
    """
    connection = connections[router.db_for_write(Topic)]
    quote = connection.ops.quote_name
    table = quote(Topic._meta.db_table)
    key, seen = (quote(Topic._meta.get_field(name).column) for name in ("key", "last_seen_at"))
    seen_at = bucket_time(bucket_start(at, bucket_seconds=conf.bucket_seconds()))
    seen_value = Topic._meta.get_field("last_seen_at").get_db_prep_save(seen_at, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key}, {seen}) VALUES {_placeholders(len(keys), 2)} "
            f"ON CONFLICT ({key}) DO UPDATE SET {seen} = excluded.{seen} "
            f"WHERE {table}.{seen} < excluded.{seen}",
            [param for key_value in keys for param in (key_value, seen_value)],
        )
    return dict(Topic.objects.filter(key__in=keys).values_list("key", "id"))


def _add(model, unique: tuple[str, ...], counters: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert `rows` (values of the `unique` fields, then of the `counters`),
    or add their counters to the rows that already exist."""
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields = [model._meta.get_field(name) for name in (*unique, *counters)]
    columns = [quote(field.column) for field in fields]
    conflict = ", ".join(columns[: len(unique)])
    additions = ", ".join(
        f"{column} = {table}.{column} + excluded.{column}" for column in columns[len(unique) :]
    )
    params = [
        field.get_db_prep_save(value, connection)
        for row in rows
        for field, value in zip(fields, row, strict=True)
    ]
    with connection.cursor() as cursor:
        values = _placeholders(len(rows), len(fields))
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {additions}",
            params,
        )


def _placeholders(rows: int, columns: int) -> str:
    return ", ".join(["(" + ", ".join(["%s"] * columns) + ")"] * rows)
