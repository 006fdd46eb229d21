"""Reads of a user's notifications."""

from django.db.models import QuerySet

from .models import Notification


def notifications_for(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    """`user`'s notifications, newest first, with their actors."""
    notifications = Notification.objects.filter(recipient=user).select_related("actor")
    if unread_only:
        notifications = notifications.filter(read=False)
    return notifications.order_by("-id")


def unread_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read=False).count()
