"""Reads of the topic counters and of the published trending snapshots."""

from collections import defaultdict

from django.db.models import Q, Sum

from .events import trending_data
from .models import Topic, TopicBucket, TopicSpelling, TrendingSnapshot
from .ranking import TopicTally, most_used_spelling
from .windows import Windows


def topic_tallies(*, windows: Windows, min_tweets: int) -> list[TopicTally]:
    """Return the tally of every topic with at least `min_tweets` in the current window.

    One aggregate over the counter rows of both windows (trending.windows):
    at most ~30 rows per topic for one-hour windows, however many tweets
    they count.
    """
    spans = Q()
    for span in windows.spans():
        spans |= Q(span=span.seconds, start__gte=span.first, start__lt=span.end)
    # Blocks never straddle the windows' border, so `start` alone says which
    # window a row belongs to, whatever its width.
    current = Q(start__gte=windows.current_start)
    rows = (
        TopicBucket.objects.filter(spans)
        .values("topic_id")
        .annotate(
            current_tweets=Sum("tweets", filter=current),
            current_engagements=Sum("engagements", filter=current),
            previous_tweets=Sum("tweets", filter=~current),
        )
        .filter(current_tweets__gte=min_tweets)
        .order_by()
        .values_list("topic_id", "current_tweets", "current_engagements", "previous_tweets")
    )
    return [
        TopicTally(topic_id, tweets, engagements or 0, previous or 0)
        for topic_id, tweets, engagements, previous in rows
    ]


def topic_names(*, topic_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Return `{topic_id: (key, most used spelling)}` for `topic_ids`."""
    keys = dict(Topic.objects.filter(pk__in=topic_ids).values_list("id", "key"))
    uses: dict[int, dict[str, int]] = defaultdict(dict)
    for topic_id, spelling, count in TopicSpelling.objects.filter(topic_id__in=topic_ids).values_list(
        "topic_id", "spelling", "uses"
    ):
        uses[topic_id][spelling] = count
    return {
        topic_id: (key, most_used_spelling(uses[topic_id]) if uses[topic_id] else key)
        for topic_id, key in keys.items()
    }


def snapshot_latest() -> TrendingSnapshot | None:
    """The newest snapshot, broadcast or not."""
    return TrendingSnapshot.objects.order_by("-id").first()


def snapshot_last_broadcast() -> TrendingSnapshot | None:
    """The newest snapshot that went out to /ws/trending."""
    return TrendingSnapshot.objects.filter(broadcast_at__isnull=False).order_by("-id").first()


def trending_latest() -> dict:
    """The `data` of the latest `trending` message (`{"topics", "count"}`)."""
    snapshot = snapshot_latest()
    return trending_data(snapshot.topics if snapshot else [])
