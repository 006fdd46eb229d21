import secrets

from django.conf import settings
from django.db import models


def new_ticket_key() -> str:
    return secrets.token_urlsafe(32)


class WebSocketTicket(models.Model):
    """A short-lived, single-use credential for one WebSocket handshake.

    Browsers and other clients put it in the URL instead of the long-lived
    API token, so a URL that leaks (logs, history, proxies) is worth nothing.
    """

    key = models.CharField(max_length=64, unique=True, default=new_ticket_key)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"ticket for {self.user} until {self.expires_at:%H:%M:%S}"


class UsernameSkeleton(models.Model):
    """What a user's username looks like (usernames.py), so
    that a sign-up resembling an existing user is found with one indexed read.

    Not unique: users made by an operator (admin, createsuperuser) are not
    refused, and two look-alikes from before the check existed must not make
    every save of either fail. Registration refuses a new one.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    skeleton = models.CharField(max_length=600, db_index=True)

    def __str__(self) -> str:
        return self.skeleton
