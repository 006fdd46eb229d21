"""A small message queue for one connection.

Every open WebSocket holds two queues for its whole life: Daphne's input
queue (what the client sent) and its channel's queue in the channel layer
(group messages not written directly, see delivery.py). Both are empty
nearly all the time, yet an empty `asyncio.Queue` allocates three deques,
each with a 64-slot block, and an Event with a fourth: a visible share of
every idle connection's memory (docs/PERFORMANCE.md, item 7). An empty
Inbox is one small object; it allocates its deque only while something is
queued.

It has the part of asyncio.Queue's interface that Daphne and the channel
layers use: put_nowait, get, get_nowait, empty, qsize, full, and the
`_queue` that Channels' in-memory layer reads to expire old messages.

`wait_for_any` waits on both of a connection's inboxes at once, with one
future: Channels' consumer loop runs a task per queue and `asyncio.wait`
over them, which kept six coroutine frames, two tasks and their contexts
alive for every idle connection (docs/PERFORMANCE.md, item 14).
"""

import asyncio
from collections import deque


class Inbox:
    __slots__ = ("maxsize", "_items", "_getters")

    def __init__(self, maxsize: int = 0):
        self.maxsize = maxsize
        self._items: deque | None = None
        # Futures of the get() calls waiting for an item (usually one, or none).
        self._getters: list | None = None

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= self.qsize()

    @property
    def _queue(self):
        return self._items if self._items is not None else ()

    def put_nowait(self, item) -> None:
        if self.full():
            raise asyncio.QueueFull
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        self._wake_next_getter()

    def get_nowait(self):
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item

    async def get(self):
        while not self._items:
            await wait_for_any(self)
        return self.get_nowait()

    def _wake_next_getter(self) -> None:
        getters = self._getters
        while getters:
            getter = getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                break
        if not getters:
            self._getters = None


async def wait_for_any(*inboxes: Inbox) -> None:
    """Return once one of `inboxes` holds an item (without taking it)."""
    if any(inbox._items for inbox in inboxes):
        return
    waiter = asyncio.get_running_loop().create_future()
    for inbox in inboxes:
        if inbox._getters is None:
            inbox._getters = []
        inbox._getters.append(waiter)
    try:
        await waiter
    except BaseException:
        _stop_waiting(waiter, inboxes, cancelled=True)
        raise
    _stop_waiting(waiter, inboxes, cancelled=False)


def _stop_waiting(waiter: asyncio.Future, inboxes: tuple, cancelled: bool) -> None:
    waiter.cancel()
    for inbox in inboxes:
        if inbox._getters and waiter in inbox._getters:
            inbox._getters.remove(waiter)
        if not inbox._getters:
            inbox._getters = None
        elif cancelled and inbox._items:
            # Perhaps woken for an item, then cancelled: another getter may
            # have it (a getter woken for nothing just waits again).
            inbox._wake_next_getter()
