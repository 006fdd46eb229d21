"""Issue and redeem single-use WebSocket tickets (see models.WebSocketTicket)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import WebSocketTicket


def ticket_issue(*, user) -> WebSocketTicket:
    """Create a ticket for `user`, valid for REALTIME_TICKET_SECONDS."""
    now = timezone.now()
    with transaction.atomic():
        WebSocketTicket.objects.filter(expires_at__lte=now).delete()
        return WebSocketTicket.objects.create(
            user=user, expires_at=now + timedelta(seconds=settings.REALTIME_TICKET_SECONDS)
        )


def ticket_redeem(*, key: str):
    """Return the user of an unexpired ticket and destroy it; None if there is none.

    Of two handshakes racing with one ticket, only the one whose DELETE
    removed the row gets the user.
    """
    ticket = (
        WebSocketTicket.objects.select_related("user").filter(key=key, expires_at__gt=timezone.now()).first()
    )
    if ticket is None:
        return None
    deleted, _ = WebSocketTicket.objects.filter(pk=ticket.pk).delete()
    if deleted == 0 or not ticket.user.is_active:
        return None
    return ticket.user
