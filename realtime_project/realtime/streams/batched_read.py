"""One database read for every subscriber asking at the same moment.

When a process restarts, or a popular tweet scrolls into thousands of
screens, many subscriptions ask for the same snapshot (a tweet's counters,
the trending topics) at once. Read one by one, each costs a query on the
streams' one database thread, most of it Django building the SQL, and
they queue behind each other. `BatchedRead.load(key)` instead waits for
the read in progress to end, then reads every key asked for meanwhile in
one query (`read_many`): under load the queue shrinks to one read per
batch; when the process is idle a key is read at once, as before.

A batch is taken from the waiting keys before its read starts, and a key
waits only after its subscriber joined its group (the consumers snapshot
after `join`), so every subscriber's value is read after it joined:
nothing published before the read is missed by both the snapshot and the
live messages.
"""

import asyncio
import logging
import weakref
from collections.abc import Callable, Hashable, Iterable

from ..stream_database import database_sync_to_async

logger = logging.getLogger(__name__)


class _Batches:
    """The waiting keys of one event loop, and its read in progress."""

    __slots__ = ("waiting", "reading")

    def __init__(self):
        self.waiting: dict[Hashable, list[asyncio.Future]] = {}
        # The task reading, kept so that it is not collected while it runs.
        self.reading: asyncio.Task | None = None


class BatchedRead:
    """`read_many(keys) -> {key: value}` (run in the streams' database
    thread), shared by every `load` waiting when a read starts. A key
    missing from its answer loads as None."""

    def __init__(self, read_many: Callable[[set], dict]):
        self.read_many = read_many
        # Per event loop: a future belongs to the loop that made it (tests
        # run each on a loop of its own; the server has one).
        self._loops: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    async def load(self, key: Hashable):
        loop = asyncio.get_running_loop()
        batches = self._loops.get(loop)
        if batches is None:
            batches = self._loops[loop] = _Batches()
        future = loop.create_future()
        batches.waiting.setdefault(key, []).append(future)
        if batches.reading is None:
            batches.reading = loop.create_task(self._read_while_waiting(batches))
        # A subscriber cancelled meanwhile (its connection closed) cancels
        # only its own future; the read goes on for the others.
        return await future

    async def _read_while_waiting(self, batches: _Batches) -> None:
        try:
            while batches.waiting:
                batch, batches.waiting = batches.waiting, {}
                try:
                    found = await database_sync_to_async(self.read_many)(set(batch))
                except Exception as failed:
                    logger.exception("batched read of %d keys failed", len(batch))
                    settle(batch.values(), error=failed)
                else:
                    for key, futures in batch.items():
                        settle([futures], value=found.get(key))
        finally:
            batches.reading = None


def settle(groups: Iterable[list[asyncio.Future]], *, value=None, error: Exception | None = None) -> None:
    for futures in groups:
        for future in futures:
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)
