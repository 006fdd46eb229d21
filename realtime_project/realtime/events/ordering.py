"""Broadcasts of one process leave in the order of their rows' ids."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

# Held from the start of a transaction that creates streamed rows until its
# broadcasts have left (see atomic_in_commit_order).
_commit_order = threading.Lock()


@contextmanager
def atomic_in_commit_order(using: str | None = None) -> Iterator[None]:
    """A transaction whose broadcasts leave in the order of its rows' ids.

    Each request runs in a thread of its own, and their on-commit broadcasts
    race: without this, a stream could get tweet 44 before tweet 43, and a
    client that disconnects in between resumes with `since=44` and never
    sees 43. Services that create rows a stream carries by id (tweets,
    notifications) write through this: one such transaction per process at
    a time, from before its first write until its broadcasts are sent. (On
    SQLite writes are serialized anyway; across processes on PostgreSQL ids
    are not commit-ordered and this does not order them, see
    docs/RELIABILITY.md.)

    Nested in an open transaction it is a plain savepoint: taking the lock
    after writing could deadlock with a thread holding it that waits for
    our database lock, and the outermost block sends the broadcasts anyway.
    """
    if transaction.get_connection(using).in_atomic_block:
        with transaction.atomic(using=using):
            yield
        return
    with _commit_order, transaction.atomic(using=using):
        # The on-commit hooks run as atomic() exits: still under the lock.
        yield
