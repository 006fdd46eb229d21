"""Deliver a group message to this process's sockets in one pass.

Stock Channels delivers a group message by queueing a copy for every
receiving channel; each consumer's task then wakes, is dispatched, and hands
the text to Daphne, which frames it and has Twisted write it. Measured
(bench/fanout.py, docs/PERFORMANCE.md), that costs a few hundred
microseconds of CPU per receiver: a broadcast to 5,000 watchers took
seconds. Here the channel layers (inmemory.py, redis_pubsub.py), on receiving a `stream.event`
for a group, write it straight to each local consumer's socket, in one
pass: the frame is built once (autobahn's prepared message) and written to
every socket.

Most receivers are *plain* (`_plain`): their kernel socket is held in a
table and a broadcast goes to it with one lookup and the system call; the
conditions for that are checked when a socket is put in the table, and
whatever ends them takes it out. The others are checked one by one.

A consumer takes messages this way only once it is *ready* (its connect(),
replay and snapshot are sent) and while nothing of its own is queued (its
`backlog`): a message queued earlier is still sent first, so a stream's
order is the order of the layer's sends, as before. Under another ASGI
server than Daphne nothing is ready, and everything goes through the queue.
"""

import asyncio
import time
from collections.abc import Iterable

from ..ops.metrics import BROADCAST_LATENCY, FANOUT_WRITE_SECONDS, count_delivered
from ..server.direct import prepared_frame, send_prepared_now, watch_plain

STREAM_EVENT = "stream.event"

# channel name -> consumer, for every open stream consumer of this process.
_tracked: dict = {}
# channel name -> consumer, for those that may be written to directly.
_ready: dict = {}
# channel name -> kernel socket, for the ready consumers whose every
# broadcast may go to the socket with no check but the excluded sender:
# nothing queued, no replayed rows, an open WebSocket with nothing
# buffered. Reading the consumer, protocol and transport of each receiver
# to check that cost more than the send itself (docs/PERFORMANCE.md,
# item 16), so it is checked when a socket is put here, and whatever ends
# it takes the socket out: note_queued, forget, and server/direct.py's
# watched transport (buffered data, a close frame, closing, lost).
_plain: dict = {}
# The loop those consumers' sockets belong to: a layer called from another
# loop (a thread of its own) must not touch them.
_loop: asyncio.AbstractEventLoop | None = None


def track(consumer) -> None:
    """Count what the layer queues for `consumer` (before it joins a group)."""
    _tracked[consumer.channel_name] = consumer


def tracked() -> list:
    """Every open stream consumer of this process (a copy: safe to close them)."""
    return list(_tracked.values())


def ready(consumer) -> None:
    """From now on, `consumer` may be written to directly."""
    global _loop
    if consumer.channel_name in _tracked:
        _ready[consumer.channel_name] = consumer
        _loop = asyncio.get_running_loop()
        if not consumer.backlog and not consumer.replayed_ids:
            watch_plain(consumer.socket, _plain, consumer.channel_name)


def forget(consumer) -> None:
    _tracked.pop(consumer.channel_name, None)
    _ready.pop(consumer.channel_name, None)
    _plain.pop(consumer.channel_name, None)


def note_queued(channel: str) -> None:
    """A layer queued a message for `channel`: its consumer must read it first."""
    consumer = _tracked.get(channel)
    if consumer is not None:
        consumer.backlog += 1
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
    # whose replay sent some rows already (the common case of
    # consumer.outgoing_text, decided here without a call per receiver).
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
        consumer = ready(channel)
        if consumer is None or consumer.backlog:
            left.append(channel)
        elif channel == exclude or not consumer.is_open or (of_rows and consumer.replayed_ids):
            if consumer.deliver_now(message, frames):
                delivered += 1
        elif send_prepared_now(consumer.socket, prepared):
            delivered += 1
            if not consumer.replayed_ids:
                # Plain again (say, Twisted has written out what it held).
                watch_plain(consumer.socket, _plain, channel)
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
