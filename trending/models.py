from django.db import models
from django.utils import timezone


class TrendingSnapshot(models.Model):
    """One recompute's published result: the ranked topics with their figures."""

    computed_at = models.DateTimeField(default=timezone.now, db_index=True)
    window_minutes = models.PositiveIntegerField()
    # [{"topic", "tweet_count", "engagement_score", "growth_rate"}, ...] best first.
    topics = models.JSONField(default=list)

    class Meta:
        ordering = ["-id"]
        get_latest_by = "id"

    def __str__(self) -> str:
        names = ", ".join(topic["topic"] for topic in self.topics[:3])
        return f"{self.computed_at:%Y-%m-%d %H:%M} ({names or 'nothing trending'})"
