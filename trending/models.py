"""Topics, their rolling counters, and the published trending snapshots.

The counters are the only input of a recompute: a row per topic per time
bucket (one minute by default) holding the tweets and engagements that
happened in it. A recompute reads O(topics x buckets) rows and never the
tweets themselves. See docs/TRENDING.md.
"""

from datetime import UTC, datetime

from django.db import models
from django.utils import timezone

# Keys are case-folded, which can lengthen a 50-character hashtag ("ß" -> "ss").
KEY_MAX_LENGTH = 200


class Topic(models.Model):
    """One canonical topic (`feed.parsing.topic_key`), shown in its most used spelling."""

    key = models.CharField(max_length=KEY_MAX_LENGTH, unique=True)
    # The newest bucket that counted anything for this topic; the prune forgets
    # topics idle for longer than the retention.
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class TopicSpelling(models.Model):
    """How many tweets wrote `topic` as `spelling` (`#AI`, `ai`, `Ai` are one topic)."""

    # DO_NOTHING: rows go with their topic in the prune's own DELETE statements
    # (services.prune), never through a Python-side cascade that could race
    # with a concurrent tweet reviving the topic.
    topic = models.ForeignKey(Topic, on_delete=models.DO_NOTHING, related_name="spellings")
    spelling = models.CharField(max_length=KEY_MAX_LENGTH)
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "spelling"], name="trending_spelling_once")]

    def __str__(self) -> str:
        return f"{self.spelling} x{self.uses}"


class TopicBucket(models.Model):
    """What happened to `topic` in the `span` seconds starting at `start`.

    Every event is counted twice: in its bucket (one minute) and in its block
    (ten minutes, see trending.windows). `tweets` counts tweets created then
    that carry the topic; `engagements` counts likes, retweets, bookmarks and
    replies made then on tweets that carry it, whenever those were posted.
    Written only by upserts that add in the database (services.counters).
    """

    topic = models.ForeignKey(Topic, on_delete=models.DO_NOTHING, related_name="buckets")
    # The row's width in seconds: TRENDING_BUCKET_SECONDS or ten times that.
    span = models.PositiveIntegerField()
    # Unix time (seconds, UTC) of the row's start: integers keep the
    # recompute's range filters and sums cheap on every database.
    start = models.BigIntegerField()
    tweets = models.PositiveIntegerField(default=0)
    engagements = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["topic", "span", "start"], name="trending_bucket_once")
        ]
        indexes = [
            # The prune's range.
            models.Index(fields=["start"], name="trending_bucket_start"),
            # Covers the recompute: a range per span and window edge, read
            # from the index alone, never from the table.
            models.Index(
                fields=["span", "start", "topic", "tweets", "engagements"],
                name="trending_bucket_sums",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.topic_id} @ {self.started_at:%H:%M} +{self.span}s: "
            f"{self.tweets} tweets, {self.engagements} engagements"
        )

    @property
    def started_at(self) -> datetime:
        return datetime.fromtimestamp(self.start, tz=UTC)


class TrendingSnapshot(models.Model):
    """One recompute's result: the ranked topics with their figures."""

    computed_at = models.DateTimeField(default=timezone.now, db_index=True)
    window_minutes = models.PositiveIntegerField()
    # [{"topic", "tweet_count", "engagement_score", "growth_rate"}, ...] best
    # first: exactly the `topics` of the `trending` message.
    topics = models.JSONField(default=list)
    # Per topic, in the same order, what the rank was computed from:
    # {"key", "rank_score", "previous_count", "engagements"}.
    details = models.JSONField(default=list, blank=True)
    # Whether `topics` differs from what was last broadcast.
    changed = models.BooleanField(default=False)
    # When this snapshot went out to /ws/trending; null if it was only stored.
    broadcast_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        get_latest_by = "id"

    def __str__(self) -> str:
        names = ", ".join(topic["topic"] for topic in self.topics[:3])
        return f"{self.computed_at:%Y-%m-%d %H:%M} ({names or 'nothing trending'})"
