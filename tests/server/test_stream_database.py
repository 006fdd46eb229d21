"""The streams' one database thread keeps its connection; a request's own
thread does not (realtime/stream_database.py)."""

import pytest
from asgiref.sync import ThreadSensitiveContext
from django.db import connection

from realtime_project.realtime.stream_database import database_sync_to_async, start_stream_database_thread

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def open_connection():
    connection.ensure_connection()
    return connection.connection


@database_sync_to_async
def close_connection():
    connection.close()


@pytest.fixture
def persistent_stream_connections(settings):
    settings.REALTIME_STREAM_DB_CONN_MAX_AGE = 60
    # As the server entry point does before any stream reads (process.py).
    start_stream_database_thread()
    yield
    settings.REALTIME_STREAM_DB_CONN_MAX_AGE = 0


async def test_the_streams_database_thread_reuses_its_connection(persistent_stream_connections):
    try:
        first = await open_connection()
        second = await open_connection()
        assert first is second
    finally:
        await close_connection()


async def test_a_requests_own_thread_closes_its_connection_after_each_use(
    persistent_stream_connections,
):
    # Django runs each HTTP request in a ThreadSensitiveContext: a thread of
    # its own, whose connections must not outlive their use.
    async with ThreadSensitiveContext():
        first = await open_connection()
        second = await open_connection()
    assert first is not second
    await close_connection()
