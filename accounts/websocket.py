"""The credentials a WebSocket client without cookies opens a socket with:
a single-use ticket (`?ticket=`) or an API token (`?token=`), in that order.
Handed to the toolkit's StreamAuthMiddleware by realtime_project/asgi.py."""

from rest_framework.authtoken.models import Token

from realtime_project.realtime import credentials
from realtime_project.realtime.middleware.auth import NOBODY
from realtime_project.realtime.stream_database import database_sync_to_async

from .tickets import ticket_redeem

# A key longer than any we issue is not looked up whole.
MAX_KEY_LENGTH = 64


@database_sync_to_async
def user_for_ticket(key: str):
    user = ticket_redeem(key=key[:MAX_KEY_LENGTH])
    # A ticket is spent: its socket belongs to the user (no fingerprint).
    return (user, None) if user is not None else NOBODY


@database_sync_to_async
def user_for_token(key: str):
    token = Token.objects.select_related("user").filter(key=key[:MAX_KEY_LENGTH]).first()
    if token is None or not token.user.is_active:
        return NOBODY
    return token.user, credentials.token_credential(token.key)


QUERY_CREDENTIALS = {"ticket": user_for_ticket, "token": user_for_token}
