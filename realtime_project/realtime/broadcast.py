"""Send events to groups of WebSocket connections through the channel layer.

Database events go out with `broadcast_on_commit`: the payload is built and
encoded when the service runs, and sent only once the surrounding
transaction commits, so a rollback sends nothing (as Zulip's
`send_event_on_commit`). Ephemeral events that have no database row (typing)
use `broadcast_now`. Only services call these functions, so one grep finds
every source of events. A failed send is logged and never raised: the
database is the source of truth and the request that caused the event must
not fail because a socket could not be told.
"""

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from . import envelope
from .metrics import CHANNEL_LAYER_ERRORS

logger = logging.getLogger(__name__)

# The channel-layer message type every stream consumer handles (-> stream_event).
STREAM_EVENT = "stream.event"


def stream_message(
    kind: str, data: dict, *, exclude_channel: str | None = None, ids: list[str] | None = None
) -> dict:
    """Return the channel-layer message carrying the encoded envelope.

    `exclude_channel` names one connection that must not receive it (the
    sender of a typing indicator). `ids` are the ids of the database rows the
    message carries, so a resuming consumer can drop what its replay sent
    without decoding the text.
    """
    message = {"type": STREAM_EVENT, "kind": kind, "text": envelope.encode(kind, data)}
    if exclude_channel:
        message["exclude"] = exclude_channel
    if ids:
        message["ids"] = ids
    return message


async def _group_send_all(groups: list[str], message: dict) -> None:
    layer = get_channel_layer()
    # Stamped when it leaves, for the broadcast latency metric.
    message["sent_at"] = time.time()
    if len(groups) > 1 and hasattr(layer, "group_send_many"):
        await layer.group_send_many(groups, message)  # one round trip (layers.py)
        return
    for group in groups:
        await layer.group_send(group, message)


def send_to_groups(groups: list[str], message: dict) -> None:
    """Send `message` to every group now, from synchronous code. Never raise."""
    try:
        async_to_sync(_group_send_all)(groups, message)
    except Exception:
        CHANNEL_LAYER_ERRORS.inc()
        logger.exception("broadcast to %d group(s) failed (first: %s)", len(groups), groups[:1])


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


def broadcast_on_commit(
    *, groups: Iterable[str], kind: str, data: dict, ids: list[str] | None = None
) -> None:
    """Send `data` as a `kind` message to `groups` once the current transaction
    commits. Send nothing if it rolls back. Outside a transaction, send now."""
    groups = list(groups)
    if not groups:
        return
    message = stream_message(kind, data, ids=ids)
    transaction.on_commit(lambda: send_to_groups(groups, message))


async def broadcast_now(*, group: str, kind: str, data: dict, exclude_channel: str | None = None) -> None:
    """Send an ephemeral `kind` message to `group` at once, from async code.

    For events with no database row behind them (typing). Never raise.
    """
    message = stream_message(kind, data, exclude_channel=exclude_channel)
    message["sent_at"] = time.time()
    try:
        await get_channel_layer().group_send(group, message)
    except Exception:
        CHANNEL_LAYER_ERRORS.inc()
        logger.exception("immediate broadcast of %s to %s failed", kind, group)


# --- The stream-specific helpers, under the names SEED.md gave them. ---------
# Each owns its message kind and `data` shape; the calling app's groups.py
# owns the group names.


def broadcast_notification(*, group: str, notification: dict) -> None:
    """Send one `notification` to `group` once the transaction commits."""
    broadcast_on_commit(
        groups=[group],
        kind=envelope.NOTIFICATION,
        data=notification,
        ids=[notification["notification_id"]],
    )


def broadcast_trending_update(*, group: str, topics: list[dict]) -> None:
    """Send the `trending` list to `group` once the transaction commits."""
    broadcast_on_commit(groups=[group], kind=envelope.TRENDING, data=trending_data(topics))


def broadcast_feed_update(*, groups: Iterable[str], tweets: list[dict]) -> None:
    """Send new `tweets` as one `feed_update` to each of `groups` after commit."""
    broadcast_on_commit(
        groups=groups,
        kind=envelope.FEED_UPDATE,
        data=feed_data(tweets),
        ids=[tweet["tweet_id"] for tweet in tweets],
    )


def broadcast_engagement_update(*, group: str, engagement: dict) -> None:
    """Send a tweet's counters (`{"tweet_id", "engagement"}`) to `group` after commit."""
    broadcast_on_commit(groups=[group], kind=envelope.ENGAGEMENT_UPDATE, data=engagement)


def trending_data(topics: list[dict]) -> dict:
    """Return the `data` of a `trending` message for `topics`."""
    return {"topics": topics, "count": len(topics)}


def feed_data(tweets: list[dict]) -> dict:
    """Return the `data` of a `feed_update` message for `tweets`."""
    return {"tweets": tweets, "count": len(tweets)}
