"""Recompute, store, broadcast and prune the trending topics."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connections, router, transaction
from django.utils import timezone

from .. import conf, events, groups, ranking, selectors
from ..models import Topic, TopicBucket, TopicSpelling, TrendingSnapshot
from ..windows import BLOCK_BUCKETS, bucket_start, bucket_time, windows_at


@dataclass(frozen=True)
class Refresh:
    """What one `trending_refresh` did."""

    snapshot: TrendingSnapshot
    # The topics differ from the last broadcast ones.
    changed: bool
    # They were handed to the channel layer (after commit).
    broadcast: bool
    # Counter rows removed by the prune.
    pruned: int


def trending_compute(*, now: datetime, window_minutes: int, limit: int) -> list[tuple[dict, dict]]:
    """Return `(figures, details)` of the top `limit` topics at `now`, best first.

    Reads only the counters (see trending.ranking for the figures).
    """
    min_tweets = conf.min_tweets()
    windows = windows_at(now, window_minutes=window_minutes, bucket_seconds=conf.bucket_seconds())
    tallies = selectors.topic_tallies(windows=windows, min_tweets=min_tweets)
    ranked = ranking.rank(tallies, limit=limit, min_tweets=min_tweets)
    names = selectors.topic_names(topic_ids=[topic.tally.topic_id for topic in ranked])
    return [
        (
            topic.figures(spelling=names[topic.tally.topic_id][1]),
            topic.details(key=names[topic.tally.topic_id][0]),
        )
        for topic in ranked
    ]


def trending_refresh(
    *,
    now: datetime | None = None,
    window_minutes: int | None = None,
    limit: int | None = None,
    broadcast: bool = True,
    min_interval: timedelta | None = None,
) -> Refresh:
    """Recompute the trending topics at `now` and store them as a new snapshot.

    Broadcast them to every /ws/trending client once the transaction commits
    if they differ from the last broadcast ones, unless `broadcast` is false
    or the last broadcast is younger than `min_interval` (then a later
    refresh sends them). Prune what is older than the retention.
    """
    now = now or timezone.now()
    window_minutes = window_minutes or conf.window_minutes()
    computed = trending_compute(now=now, window_minutes=window_minutes, limit=limit or conf.limit())
    topics = [figures for figures, _ in computed]
    with transaction.atomic(using=router.db_for_write(TrendingSnapshot)):
        _serialize_refreshes()
        last_sent = selectors.snapshot_last_broadcast()
        changed = topics != (last_sent.topics if last_sent else [])
        due = (
            changed
            and broadcast
            and (min_interval is None or last_sent is None or now - last_sent.broadcast_at >= min_interval)
        )
        snapshot = TrendingSnapshot.objects.create(
            computed_at=now,
            window_minutes=window_minutes,
            topics=topics,
            details=[details for _, details in computed],
            changed=changed,
            broadcast_at=now if due else None,
        )
        if due:
            events.broadcast_trending_update(group=groups.everyone(), topics=topics)
        pruned = trending_prune(
            now=now,
            keep=timedelta(minutes=2 * window_minutes),
            keep_snapshots=[snapshot.pk, *([last_sent.pk] if last_sent else [])],
        )
    return Refresh(snapshot=snapshot, changed=changed, broadcast=due, pruned=pruned)


def trending_prune(
    *, now: datetime, keep: timedelta = timedelta(0), keep_snapshots: list[int] | None = None
) -> int:
    """Delete counters, idle topics and snapshots older than the retention.

    The retention is TRENDING_RETENTION_HOURS, or `keep` if longer (two
    windows, which a recompute needs). The snapshots `keep_snapshots` (by
    default the newest and the newest broadcast one) are always kept.
    Return how many counter rows went.
    """
    # On a block border, so that no block outlives some of its buckets.
    block = conf.bucket_seconds() * BLOCK_BUCKETS
    cutoff = bucket_start(now - max(conf.retention(), keep), bucket_seconds=block)
    cutoff_time = bucket_time(cutoff)
    # Inside a refresh, part of its transaction; no savepoint needed.
    with transaction.atomic(using=router.db_for_write(TopicBucket), savepoint=False):
        buckets, _ = TopicBucket.objects.filter(start__lt=cutoff).delete()
        # A topic idle since before the cutoff has no bucket left. Each DELETE
        # is one statement that re-checks `last_seen_at`, which a concurrent
        # tweet reviving the topic has moved forward (and locked).
        TopicSpelling.objects.filter(topic__last_seen_at__lt=cutoff_time).delete()
        Topic.objects.filter(last_seen_at__lt=cutoff_time).delete()
        if keep_snapshots is None:
            latest = (selectors.snapshot_latest(), selectors.snapshot_last_broadcast())
            keep_snapshots = [snapshot.pk for snapshot in latest if snapshot]
        TrendingSnapshot.objects.filter(computed_at__lt=cutoff_time).exclude(pk__in=keep_snapshots).delete()
    return buckets


def _serialize_refreshes() -> None:
    # Two recomputes (the server's and an operator's loop) must not both see
    # the same last broadcast and both send. SQLite takes its write lock at
    # BEGIN (transaction_mode IMMEDIATE in settings); PostgreSQL needs a lock.
    connection = connections[router.db_for_write(TrendingSnapshot)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK_ID])


# An arbitrary constant naming the advisory lock of trending refreshes.
REFRESH_LOCK_ID = 7_401_337
