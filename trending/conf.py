"""The trending settings with their defaults, read when used, never at import.

Each is set in realtime_project/settings.py from the environment variable of
the same name; the defaults here apply where a setting is absent.
"""

from datetime import timedelta

from django.conf import settings


def window_minutes() -> int:
    """The current window; growth compares it with the one before."""
    return int(getattr(settings, "TRENDING_WINDOW_MINUTES", 60))


def limit() -> int:
    """How many topics a snapshot publishes."""
    return int(getattr(settings, "TRENDING_LIMIT", 10))


def bucket_seconds() -> int:
    """The width of one counter bucket: the window slides by this step."""
    return max(1, int(getattr(settings, "TRENDING_BUCKET_SECONDS", 60)))


def min_tweets() -> int:
    """The minimum support: tweets a topic needs in the window to be ranked."""
    return max(1, int(getattr(settings, "TRENDING_MIN_TWEETS", 2)))


def retention() -> timedelta:
    """How long counters and snapshots are kept (at least two windows)."""
    return timedelta(hours=float(getattr(settings, "TRENDING_RETENTION_HOURS", 24)))


def recompute_seconds() -> float:
    """The periodic recompute's interval: at most one broadcast per interval."""
    return float(getattr(settings, "TRENDING_RECOMPUTE_SECONDS", 60))


def recompute_in_server() -> bool:
    """Whether each server process runs the periodic recompute itself."""
    return bool(getattr(settings, "TRENDING_RECOMPUTE_IN_SERVER", True))
