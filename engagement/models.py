from django.conf import settings
from django.db import models
from django.utils import timezone


class Engagement(models.Model):
    """One user's like, retweet or bookmark of one tweet (at most one of each)."""

    class Kind(models.TextChoices):
        LIKE = "LIKE", "like"
        RETWEET = "RETWEET", "retweet"
        BOOKMARK = "BOOKMARK", "bookmark"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="engagements")
    tweet = models.ForeignKey("feed.Tweet", on_delete=models.CASCADE, related_name="engagements")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tweet", "kind"], name="engage_once_per_kind")]
        indexes = [models.Index(fields=["tweet", "kind"], name="engagement_by_tweet")]

    def __str__(self) -> str:
        return f"{self.user} {self.get_kind_display()} tweet {self.tweet_id}"

    @property
    def counter_field(self) -> str:
        """The Tweet field that counts engagements of this kind."""
        return COUNTER_FIELDS[self.kind]


COUNTER_FIELDS = {
    Engagement.Kind.LIKE: "likes_count",
    Engagement.Kind.RETWEET: "retweets_count",
    Engagement.Kind.BOOKMARK: "bookmarks_count",
}
