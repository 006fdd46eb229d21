"""Reads of the published trending topics."""

from realtime_project.realtime.broadcast import trending_data

from .models import TrendingSnapshot


def snapshot_latest() -> TrendingSnapshot | None:
    return TrendingSnapshot.objects.order_by("-id").first()


def trending_latest() -> dict:
    """The `data` of the latest `trending` message (`{"topics", "count"}`)."""
    snapshot = snapshot_latest()
    return trending_data(snapshot.topics if snapshot else [])
