from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Tweet(models.Model):
    """A post, possibly a reply to another, with its engagement counters.

    The counters are written only by the engagement app's services with F()
    expressions, so concurrent likes never overwrite each other.
    """

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tweets")
    content = models.TextField()
    # Display spellings, one per case-folded topic: explicit topics + #hashtags.
    topics = models.JSONField(default=list, blank=True)
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    likes_count = models.PositiveIntegerField(default=0)
    retweets_count = models.PositiveIntegerField(default=0)
    replies_count = models.PositiveIntegerField(default=0)
    bookmarks_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["author", "-id"], name="tweet_author_newest")]

    def __str__(self) -> str:
        return f"{self.author} #{self.pk}: {self.content[:40]}"

    @property
    def engagement(self) -> dict:
        return {
            "likes": self.likes_count,
            "replies": self.replies_count,
            "retweets": self.retweets_count,
            "bookmarks": self.bookmarks_count,
        }


class Follow(models.Model):
    """`follower` sees `followee`'s tweets in their feed."""

    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following_set"
    )
    followee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follower_set"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_once"),
            models.CheckConstraint(condition=~Q(follower=F("followee")), name="follow_not_self"),
        ]
        indexes = [models.Index(fields=["followee", "follower"], name="follow_by_followee")]

    def __str__(self) -> str:
        return f"{self.follower} follows {self.followee}"
