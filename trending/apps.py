from django.apps import AppConfig


class TrendingConfig(AppConfig):
    """Trending topics over recent tweets, recomputed and broadcast to everyone."""

    name = "trending"
