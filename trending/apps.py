from django.apps import AppConfig


class TrendingConfig(AppConfig):
    """Trending topics: rolling counters kept from tweets and engagements,
    recomputed periodically, stored as snapshots and broadcast on change."""

    name = "trending"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
