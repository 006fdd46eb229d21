"""Which credential a WebSocket was opened with, and ending its sockets.

A socket lives no longer than its credential (PROTOCOL.md, "Credentials end
their sockets"). Every authenticated connection joins its user's group
(`user_group`) and keeps, in its scope, the fingerprint of what it was opened
with; when a credential ends, `sockets_close_on_commit` tells that group,
through the channel layer and so every server process, which one ended (or
all of them), and each connection opened with it closes with 4401.

Fingerprints, never the secrets themselves, are what travels through Redis:
a SHA-256 of a key chosen at random with over 160 bits cannot be reversed,
and needs no SECRET_KEY, so every process and management command computes
the same one.
"""

import hashlib
import secrets

from django.db import transaction

from .events.broadcast import send_to_groups

# The channel-layer message type (-> StreamConsumer.credentials_ended).
CREDENTIALS_ENDED = "credentials.ended"
# Every credential of the user: a password change, a deactivated or deleted account.
ALL = "all"
# Session data: a random id given to a session at sign-in. It survives Django's
# cycle_key (a second sign-in of the same user, update_session_auth_hash), so
# signing out also ends the sockets opened before the session key changed.
SESSION_CREDENTIAL_KEY = "_realtime_credential"


def user_group(user_id) -> str:
    """The group every authenticated connection of the user joins."""
    return f"realtime.user.{user_id}"


def fingerprint(kind: str, secret: str) -> str:
    return hashlib.sha256(f"{kind}:{secret}".encode()).hexdigest()[:32]


def token_credential(key: str) -> str:
    """The fingerprint of the API token `key`."""
    return fingerprint("token", key)


def session_credential_start(session) -> None:
    """Give a session that is signing in its credential id, unless it has one."""
    if SESSION_CREDENTIAL_KEY not in session:
        session[SESSION_CREDENTIAL_KEY] = secrets.token_hex(16)


def session_credential(session) -> str | None:
    """The fingerprint of a signed-in session; None if it has no key.

    Sessions signed in before credential ids existed are named by their key.
    """
    secret = session.get(SESSION_CREDENTIAL_KEY) or session.session_key
    return fingerprint("session", secret) if secret else None


def sockets_close_on_commit(*, user_id, credential: str = ALL) -> None:
    """Close the user's sockets opened with `credential` (a fingerprint, or
    ALL) with 4401, in every server process, once the current transaction
    commits. Close nothing if it rolls back. Outside a transaction, now."""
    message = {"type": CREDENTIALS_ENDED, "credential": credential}
    groups = [user_group(user_id)]
    transaction.on_commit(lambda: send_to_groups(groups, message))


def ended(message: dict, credential: str | None) -> bool:
    """Whether a CREDENTIALS_ENDED `message` ends a socket opened with `credential`
    (None: a single-use ticket, which belongs to the user and ends with ALL)."""
    ended_credential = message.get("credential")
    return ended_credential == ALL or (credential is not None and ended_credential == credential)
