"""The notifications stream's messages: payloads (model -> JSON-safe dict)
and their broadcast."""

from realtime_project.realtime import protocol
from realtime_project.realtime.events.broadcast import broadcast_on_commit

from .models import Notification
from .serializers import NotificationSerializer


def notification_payload(notification: Notification) -> dict:
    """The notification as every client meets it (REST and WebSocket alike)."""
    return NotificationSerializer(notification).data


def notification_payloads(notifications: list[Notification]) -> list[dict]:
    """`notification_payload` of many at once: one serializer for all."""
    return NotificationSerializer(notifications, many=True).data


def broadcast_notification(*, group: str, notification: dict) -> None:
    """Send one `notification` to `group` once the transaction commits."""
    broadcast_on_commit(
        groups=[group],
        kind=protocol.NOTIFICATION,
        data=notification,
        ids=[notification["notification_id"]],
    )
