"""Which saves of a user end their credentials (signals.py): a password set
does, and so does deactivation; the hash upgrade Django makes at sign-in,
and the saves every sign-in or profile edit makes, do not. A real consumer
on the in-memory layer tells (tests/e2e covers the live servers)."""

from contextlib import suppress

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import transaction
from django.urls import re_path
from rest_framework.authtoken.models import Token

from accounts.websocket import QUERY_CREDENTIALS
from notifications.streams import NOTIFICATIONS
from realtime_project.realtime.consumers import StreamConsumer
from realtime_project.realtime.middleware.auth import StreamAuthMiddleware
from tests.communicator import DaphneCommunicator

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

# The streams' authentication and a stream consumer, as asgi.py stacks them.
application = StreamAuthMiddleware(
    URLRouter(
        [re_path(r"^ws/notifications/(?P<user_id>[^/]+)$", StreamConsumer.as_asgi(stream=NOTIFICATIONS))]
    ),
    query_credentials=QUERY_CREDENTIALS,
)


class CheapPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """A hasher that passwords are upgraded to, at a test's speed."""

    iterations = 1000


@database_sync_to_async
def token_of(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


@database_sync_to_async
def token_keys(user) -> list[str]:
    return list(Token.objects.filter(user=user).values_list("key", flat=True))


async def open_inbox(user) -> DaphneCommunicator:
    communicator = DaphneCommunicator(
        application, f"/ws/notifications/{user.pk}?token={await token_of(user)}"
    )
    assert (await communicator.connect())[0]
    await assert_open(communicator)
    return communicator


async def assert_open(communicator) -> None:
    # Twice: a close already queued for the consumer would follow the first pong.
    for _ in range(2):
        await communicator.send_to(text_data="ping")
        assert (await communicator.receive_json_from(timeout=2))["type"] == "pong"


async def assert_closed_with(communicator, code: int) -> None:
    output = await communicator.receive_output(timeout=2)
    assert (output["type"], output.get("code")) == ("websocket.close", code), output


async def test_a_password_hash_upgrade_at_sign_in_ends_no_credential(alice, settings):
    token = await token_of(alice)
    inbox = await open_inbox(alice)
    settings.PASSWORD_HASHERS = [
        f"{__name__}.CheapPBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    signed_in = await database_sync_to_async(authenticate)(username="alice", password="a-Strong-password-1")
    assert signed_in.password.startswith("pbkdf2_sha256$1000$")  # upgraded and saved
    await assert_open(inbox)
    assert await token_keys(alice) == [token]
    await inbox.disconnect()


async def test_setting_the_password_ends_every_credential(alice):
    inbox = await open_inbox(alice)

    def change():
        alice.set_password("another-Strong-password-2")
        alice.save()

    await database_sync_to_async(change)()
    await assert_closed_with(inbox, 4401)
    assert await token_keys(alice) == []


async def test_a_password_change_that_rolls_back_ends_nothing(alice):
    token = await token_of(alice)
    inbox = await open_inbox(alice)

    def change_then_fail():
        with suppress(RuntimeError), transaction.atomic():
            alice.set_password("another-Strong-password-2")
            alice.save()
            raise RuntimeError("the rest of the request failed")

    await database_sync_to_async(change_then_fail)()
    await assert_open(inbox)
    assert await token_keys(alice) == [token]
    await inbox.disconnect()


async def test_deactivating_the_user_ends_every_credential(alice):
    inbox = await open_inbox(alice)

    def deactivate():
        alice.is_active = False
        alice.save(update_fields=["is_active"])

    await database_sync_to_async(deactivate)()
    await assert_closed_with(inbox, 4401)


async def test_other_saves_of_the_user_end_nothing(alice, bob):
    token = await token_of(alice)
    inbox, other = await open_inbox(alice), await open_inbox(bob)

    def edit():
        alice.first_name = "Alice Renamed"
        alice.save()
        alice.save(update_fields=["last_login"])  # what every sign-in does

    await database_sync_to_async(edit)()
    # Bob's password changes: only his sockets hear of it.
    await database_sync_to_async(bob.set_password)("bobs-new-Password-3")
    await database_sync_to_async(bob.save)()
    await assert_closed_with(other, 4401)
    await assert_open(inbox)
    assert await token_keys(alice) == [token]
    await inbox.disconnect()
