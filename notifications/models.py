from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """Something `actor` did that `recipient` should hear about."""

    class Type(models.TextChoices):
        LIKE = "LIKE", "liked your tweet"
        REPLY = "REPLY", "replied to your tweet"
        RETWEET = "RETWEET", "retweeted your tweet"
        FOLLOW = "FOLLOW", "followed you"
        MENTION = "MENTION", "mentioned you"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications_caused"
    )
    type = models.CharField(max_length=8, choices=Type.choices)
    tweet = models.ForeignKey("feed.Tweet", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    read = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notification_inbox"),
            models.Index(fields=["recipient", "read"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_type_display()} ({self.recipient})"
