"""Accounts' writes: registration, tokens, passwords, sessions. Each
credential that ends takes the sockets opened with it along
(realtime/credentials.py); signals.py calls these for changes made
elsewhere (the admin, management commands)."""

from django.contrib.auth import SESSION_KEY, get_user_model, login
from django.db import transaction
from rest_framework.authtoken.models import Token

from realtime_project.realtime import credentials


def user_register(*, username: str, password: str, display_name: str = ""):
    """Create an active user with an API token. Return (user, token key)."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=username, password=password, first_name=display_name.strip()
        )
        token = Token.objects.create(user=user)
    return user, token.key


def token_for(user) -> str:
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def token_rotate(*, user) -> str:
    """Replace `user`'s API token; return the new key. The old one stops
    working, and the sockets opened with it close (signals.token_deleted)."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user).key


def user_password_change(*, user, password: str) -> str:
    """Set `user`'s password and return their new API token: every other
    credential of theirs ends (user_credentials_end, from signals.user_saved)."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        return token_for(user)


def user_credentials_end(*, user) -> None:
    """End every credential of `user` (their password changed): the API token
    is deleted (a new one is made when next asked for) and every socket of
    theirs closes. Sessions end by themselves: Django checks a session
    against the password it was signed in with."""
    Token.objects.filter(user=user).delete()
    credentials.sockets_close_on_commit(user_id=user.pk)


def session_end(*, session) -> None:
    """Close the sockets opened with `session`, which is signing out."""
    user_id = session.get(SESSION_KEY)
    credential = credentials.session_credential(session)
    if user_id is not None and credential is not None:
        credentials.sockets_close_on_commit(user_id=user_id, credential=credential)


def session_sign_in(request, user, *, backend=None) -> None:
    """Sign `request`'s browser in as `user` with a session.

    Signing in over another user's session replaces it (Django flushes it):
    that session's sockets close, as if it had signed out.
    """
    replaced_user = request.session.get(SESSION_KEY)
    replaced = credentials.session_credential(request.session) if replaced_user else None
    login(request, user, backend=backend)
    if replaced is not None and credentials.session_credential(request.session) != replaced:
        credentials.sockets_close_on_commit(user_id=replaced_user, credential=replaced)
