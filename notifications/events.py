"""The notifications stream's messages: payloads (model -> JSON-safe dict)
and their broadcast."""

from realtime_project.realtime import protocol
from realtime_project.realtime.events.broadcast import broadcast_on_commit
from realtime_project.realtime.events.payloads import Payloads

from .models import Notification
from .serializers import NotificationSerializer

PAYLOADS = Payloads(NotificationSerializer)


def notification_payload(notification: Notification) -> dict:
    """The notification as every client meets it (REST and WebSocket alike)."""
    return PAYLOADS.of(notification)


def notification_payloads(notifications: list[Notification]) -> list[dict]:
    """`notification_payload` of each of `notifications`."""
    return PAYLOADS.of_many(notifications)


def broadcast_notification(*, group: str, notification: dict) -> None:
    """Send one `notification` to `group` once the transaction commits."""
    broadcast_on_commit(
        groups=[group],
        kind=protocol.NOTIFICATION,
        data=notification,
        ids=[notification["notification_id"]],
    )
