from django.apps import AppConfig


class FeedConfig(AppConfig):
    """Tweets and follows, and the per-user stream of new tweets by followed authors."""

    name = "feed"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
