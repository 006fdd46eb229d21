"""Deliver a group message to this process's sockets in one pass.

Stock Channels delivers a group message by queueing a copy for every
receiving channel; each consumer's task then wakes, is dispatched, and hands
the text to Daphne, which frames it and has Twisted write it. Measured,
that costs far more CPU per receiver than the write to its socket, and a
broadcast to thousands of watchers took seconds (docs/PERFORMANCE.md: the
naive targets of the tables, and "What made the difference"). Here the
channel layers (inmemory.py, redis_pubsub.py), on receiving a
`stream.event` for a group, write it straight to each local consumer's
socket, in one pass: the frame is built once (autobahn's prepared message)
and written to every socket.

Most receivers are *plain* (`_plain`): their kernel socket is held in a
table and a broadcast goes to it with one lookup and the system call; the
conditions for that are checked when a socket is put in the table, and
whatever ends them takes it out. The others are checked one by one.

A consumer takes messages this way only once it is *ready* (its connect(),
replay and snapshot are sent) and while nothing of its own is queued
(`Receiver.queued`): a message queued earlier is still sent first, so a stream's
order is the order of the layer's sends, as before. Under another ASGI
server than Daphne nothing is ready, and everything goes through the queue.
"""

import asyncio
import time
from collections.abc import Callable, Iterable

from ..ops.metrics import BROADCAST_LATENCY, FANOUT_WRITE_SECONDS, count_delivered
from ..server.direct import prepared_frame, send_prepared_now, watch_plain

STREAM_EVENT = "stream.event"


class Receiver:
    """What delivery knows of one stream consumer of this process, and all
    it reads or writes of it: the consumer hands over these values and
    callbacks and keeps the handle, so no layer touches a consumer."""

    __slots__ = ("channel", "socket", "queued", "replayed", "write", "catch_up")

    def __init__(self, channel: str, *, write: Callable[[dict, dict], bool], catch_up: Callable):
        self.channel = channel
        # Daphne's protocol of its WebSocket, once it is ready (see ready()).
        self.socket = None
        # Messages the layer queued for it and it has not handled yet.
        self.queued = 0
        # Its resume replayed rows: a message of rows goes through `write`,
        # which drops those already sent.
        self.replayed = False
        # The consumer's own path for one message, `write(event, frames)`:
        # whether a frame was written.
        self.write = write
        # `await catch_up()`: make up for messages the layer lost; whether
        # the consumer was open to do so.
        self.catch_up = catch_up


# channel name -> receiver, for every open stream consumer of this process.
_tracked: dict[str, Receiver] = {}
# channel name -> receiver, for those that may be written to directly.
_ready: dict[str, Receiver] = {}
# channel name -> kernel socket, for the ready receivers whose every
# broadcast may go to the socket with no check but the excluded sender:
# nothing queued, no replayed rows, an open WebSocket with nothing
# buffered. Checking that per receiver cost more than the send itself
# (docs/PERFORMANCE.md, item 16), so it is checked when a socket is put
# here, and whatever ends it takes the socket out: note_queued, forget,
# and server/direct.py's watched transport (buffered data, a close frame,
# closing, lost).
_plain: dict = {}
# The loop those consumers' sockets belong to: a layer called from another
# loop (a thread of its own) must not touch them.
_loop: asyncio.AbstractEventLoop | None = None


def track(channel: str, *, write: Callable[[dict, dict], bool], catch_up: Callable) -> Receiver:
    """Count what the layer queues for `channel` from now on (a consumer
    calls this before it joins a group); return the consumer's handle."""
    receiver = _tracked[channel] = Receiver(channel, write=write, catch_up=catch_up)
    return receiver


def tracked() -> list[Receiver]:
    """Every open stream consumer of this process (a copy: safe to close them)."""
    return list(_tracked.values())


def ready(receiver: Receiver, socket, *, replayed: bool) -> None:
    """From now on, `receiver` may be written to directly, on `socket`."""
    global _loop
    if _tracked.get(receiver.channel) is receiver:
        receiver.socket, receiver.replayed = socket, replayed
        _ready[receiver.channel] = receiver
        _loop = asyncio.get_running_loop()
        if not receiver.queued and not replayed:
            watch_plain(socket, _plain, receiver.channel)


def hold(receiver: Receiver) -> None:
    """Write nothing to `receiver` directly until ready() again: what comes
    meanwhile is queued, behind what the consumer sends itself (a `/ws/`
    subscription's `subscribed` and replay)."""
    _ready.pop(receiver.channel, None)
    _plain.pop(receiver.channel, None)


def handled(receiver: Receiver) -> None:
    """The consumer handled a channel-layer message (queued for it, if it
    was counted)."""
    if receiver.queued:
        receiver.queued -= 1


def forget(receiver: Receiver) -> None:
    channel = receiver.channel
    if _tracked.get(channel) is receiver:
        del _tracked[channel]
        _ready.pop(channel, None)
        _plain.pop(channel, None)


def note_queued(channel: str) -> None:
    """A layer queued a message for `channel`: its consumer must read it first."""
    receiver = _tracked.get(channel)
    if receiver is not None:
        receiver.queued += 1
        _plain.pop(channel, None)


def any_ready(channels: Iterable[str]) -> bool:
    return not _ready.keys().isdisjoint(channels)


def deliver(channels: Iterable[str], message: dict, now: float | None = None) -> list[str]:
    """Write `message` at once to each of `channels` whose consumer can take it;
    return the channels left for the layer to queue."""
    if message.get("type") != STREAM_EVENT or not _ready or not _on_sockets_loop():
        return list(channels)
    frames: dict = {}
    prepared = prepared_frame(message["text"], frames)
    data = prepared.payloadHybi
    size = len(data)
    # Who may get the text as it is, without asking the consumer: anyone
    # but the sender it excludes and, for a message of rows, a consumer
    # whose replay sent some rows already (the common case of the
    # consumer's outgoing_text, decided here without a call per receiver).
    exclude = message.get("exclude")
    of_rows = bool(message.get("ids"))
    left, delivered = [], 0
    plain, ready = _plain.get, _ready.get
    started = time.perf_counter()
    # Once per receiver of every broadcast: for a plain socket one lookup
    # and the system call; the others are checked one by one.
    for channel in channels:
        sock = plain(channel)
        if sock is not None and channel != exclude:
            try:
                sent = sock.send(data)
            except OSError:  # would block, or lost: Twisted's write sorts it out
                sent = 0
            if sent != size:
                # What the kernel did not take goes to Twisted's buffer
                # (which takes the socket out of _plain).
                _ready[channel].socket.transport.write(data[sent:])
            delivered += 1
            continue
        receiver = ready(channel)
        if receiver is None or receiver.queued:
            left.append(channel)
        elif channel == exclude or (of_rows and receiver.replayed):
            if receiver.write(message, frames):
                delivered += 1
        elif send_prepared_now(receiver.socket, prepared):
            delivered += 1
            if not receiver.replayed:
                # Plain again (say, Twisted has written out what it held).
                watch_plain(receiver.socket, _plain, channel)
    if delivered:
        # Once per group message, not per receiver: metrics cost microseconds.
        if delivered > 1:
            FANOUT_WRITE_SECONDS.observe(time.perf_counter() - started)
        count_delivered(message.get("kind", ""), delivered)
        if "sent_at" in message and now is not None:
            BROADCAST_LATENCY.observe(max(0.0, now - message["sent_at"]))
    return left


def _on_sockets_loop() -> bool:
    try:
        return asyncio.get_running_loop() is _loop
    except RuntimeError:
        return False
