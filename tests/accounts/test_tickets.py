"""Single-use WebSocket tickets instead of a long-lived token in the URL."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from accounts.models import WebSocketTicket
from realtime_project.asgi import application
from tests.communicator import DaphneCommunicator

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def issue_ticket(api_for, user) -> str:
    response = api_for(user).post("/api/auth/ws-ticket/")
    assert response.status_code == 201 and response.json()["expires_in"] == 30
    return response.json()["ticket"]


async def open_notifications(user, ticket) -> WebsocketCommunicator:
    communicator = DaphneCommunicator(application, f"/ws/notifications/{user.pk}?ticket={ticket}")
    assert (await communicator.connect())[0]
    return communicator


async def test_ticket_opens_one_connection_only(api_for, alice):
    ticket = await issue_ticket(api_for, alice)
    first = await open_notifications(alice, ticket)
    assert await first.receive_nothing(timeout=0.1)
    second = await open_notifications(alice, ticket)
    assert (await second.receive_output(timeout=2))["code"] == 4401
    await first.disconnect()


async def test_expired_ticket_is_refused(api_for, alice):
    ticket = await issue_ticket(api_for, alice)
    await database_sync_to_async(WebSocketTicket.objects.update)(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    communicator = await open_notifications(alice, ticket)
    assert (await communicator.receive_output(timeout=2))["code"] == 4401


async def test_ticket_needs_an_authenticated_request(api_for):
    response = await database_sync_to_async(api_for().post)("/api/auth/ws-ticket/")
    assert response.status_code == 401
