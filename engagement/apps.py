from django.apps import AppConfig


class EngagementConfig(AppConfig):
    """Likes, retweets and bookmarks, the tweet counters, and typing indicators."""

    name = "engagement"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
