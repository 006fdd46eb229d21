"""Recompute, store and broadcast the trending topics."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from feed.models import Tweet
from realtime_project.realtime.broadcast import broadcast_trending_update

from . import groups, ranking, selectors
from .models import TrendingSnapshot


def _tweet_rows(*, start: datetime, end: datetime):
    engagements = F("likes_count") + F("retweets_count") + F("replies_count") + F("bookmarks_count")
    return (
        Tweet.objects.filter(created_at__gt=start, created_at__lte=end)
        .annotate(engagement_total=engagements)
        .values_list("topics", "engagement_total")
        .iterator(chunk_size=2000)
    )


def trending_compute(*, now: datetime, window_minutes: int, limit: int) -> list[dict]:
    """The ranked topics of the window ending at `now` (see trending.ranking)."""
    window = timedelta(minutes=window_minutes)
    current = ranking.tally(_tweet_rows(start=now - window, end=now))
    previous = ranking.tally(_tweet_rows(start=now - 2 * window, end=now - window))
    return ranking.rank(current, previous, limit=limit)


def trending_recompute(
    *, now: datetime | None = None, window_minutes: int | None = None, limit: int | None = None
) -> tuple[TrendingSnapshot | None, bool]:
    """Recompute the trending topics; if they changed, store and broadcast them.

    Return the latest snapshot and whether it is new.
    """
    window_minutes = window_minutes or settings.TRENDING_WINDOW_MINUTES
    limit = limit or settings.TRENDING_LIMIT
    topics = trending_compute(now=now or timezone.now(), window_minutes=window_minutes, limit=limit)
    latest = selectors.snapshot_latest()
    if latest is not None and latest.topics == topics:
        return latest, False
    with transaction.atomic():
        snapshot = TrendingSnapshot.objects.create(window_minutes=window_minutes, topics=topics)
        broadcast_trending_update(group=groups.everyone(), topics=topics)
    return snapshot, True
