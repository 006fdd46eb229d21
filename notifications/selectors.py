"""Reads of a user's notifications."""

from django.conf import settings
from django.db.models import QuerySet

from realtime_project.realtime import protocol
from realtime_project.realtime.events.replay import Replay

from . import events
from .models import Notification


def notifications_for(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    """`user`'s notifications, newest first, with their actors."""
    notifications = Notification.objects.filter(recipient=user).select_related("actor")
    if unread_only:
        notifications = notifications.filter(read=False)
    return notifications.order_by("-id")


def unread_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read=False).count()


def notifications_after(*, user, after_id: int, limit: int) -> tuple[list[Notification], bool]:
    """The newest `limit` of `user`'s notifications with id > `after_id`, oldest
    first, and whether there were more."""
    newest = list(
        Notification.objects.filter(recipient=user, pk__gt=after_id)
        .select_related("actor")
        .order_by("-id")[: limit + 1]
    )
    return newest[:limit][::-1], len(newest) > limit


def notifications_replay(*, user, since: int) -> Replay:
    """What a client reconnecting with `?since=` missed: one `notification` each."""
    missed, truncated = notifications_after(user=user, after_id=since, limit=settings.REALTIME_REPLAY_LIMIT)
    payloads = events.notification_payloads(missed)
    return Replay(
        frames=[(protocol.NOTIFICATION, payload) for payload in payloads],
        ids=frozenset(payload["notification_id"] for payload in payloads),
        truncated=truncated,
    )
