"""The streams' database connection, kept open between reads.

Every consumer's database read (a handshake's token or tweet lookup, a
snapshot, a replay) goes through Channels' `database_sync_to_async`, which
runs it in asgiref's one long-lived database thread and closes that
thread's connection before and after each read unless it is younger than
CONN_MAX_AGE. CONN_MAX_AGE has to stay 0 under ASGI (Django's docs): Django
runs each HTTP request in a thread of its own, and a connection kept past
the request would be left behind with the thread. So each handshake opened
and closed a connection, a large share of a handshake's CPU
(docs/PERFORMANCE.md, item 9).

Here (StreamDatabaseSyncToAsync, which the streams use as
`database_sync_to_async`) that one thread, and only it, keeps its connection for
REALTIME_STREAM_DB_CONN_MAX_AGE seconds, checked before each reuse
(CONN_HEALTH_CHECKS) so one the database dropped is replaced.
"""

import threading

from asgiref.sync import SyncToAsync
from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import connections


def keep_stream_thread_connections() -> None:
    """Set the connections of this thread to live for the configured age,
    if this is asgiref's long-lived database thread."""
    if threading.current_thread() not in SyncToAsync.single_thread_executor._threads:
        return  # a request's own thread, or another executor's: Django's rules
    max_age = settings.REALTIME_STREAM_DB_CONN_MAX_AGE
    for connection in connections.all():
        if connection.settings_dict.get("CONN_MAX_AGE") != max_age:
            # This thread's wrapper gets its own copy: others keep the shared one.
            connection.settings_dict = {
                **connection.settings_dict,
                "CONN_MAX_AGE": max_age,
                "CONN_HEALTH_CHECKS": True,
            }


def start_stream_database_thread() -> None:
    """Start asgiref's database thread now (the server entry point calls
    this): ThreadPoolExecutor lists a worker thread only after it has
    started, so its very first task would not recognise the thread as its own."""
    SyncToAsync.single_thread_executor.submit(int).result()


class StreamDatabaseSyncToAsync(DatabaseSyncToAsync):
    """Channels' DatabaseSyncToAsync, whose long-lived database thread keeps
    its connections (keep_stream_thread_connections)."""

    def thread_handler(self, loop, *args, **kwargs):
        keep_stream_thread_connections()
        return super().thread_handler(loop, *args, **kwargs)


# What the streams use instead of channels.db.database_sync_to_async.
database_sync_to_async = StreamDatabaseSyncToAsync
