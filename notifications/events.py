"""Payloads of the notifications stream: model -> JSON-safe dict."""

from .models import Notification
from .serializers import NotificationSerializer


def notification_payload(notification: Notification) -> dict:
    """The notification as every client meets it (REST and WebSocket alike)."""
    return NotificationSerializer(notification).data


def notification_payloads(notifications: list[Notification]) -> list[dict]:
    """`notification_payload` of many at once: one serializer for all."""
    return NotificationSerializer(notifications, many=True).data
