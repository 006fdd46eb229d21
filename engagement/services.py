"""Writes of engagements and counters, and the engagement stream's broadcasts."""

import asyncio

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest

from feed.models import Tweet
from realtime_project.realtime import protocol
from realtime_project.realtime.events.broadcast import broadcast_now
from realtime_project.realtime.events.coalescing import Throttle
from realtime_project.realtime.events.ordering import atomic_in_commit_order
from realtime_project.realtime.rate_limit import RateLimit

from . import events, groups, selectors
from .models import Engagement


def engagement_add(*, user, tweet: Tweet, kind: str) -> dict:
    """Record that `user` engaged with `tweet` as `kind`; repeating is harmless.

    Return the tweet's `{"tweet_id", "engagement"}`.
    """
    try:
        # A like or retweet creates a notification for the tweet's author.
        with atomic_in_commit_order():
            Engagement.objects.get_or_create(user=user, tweet=tweet, kind=kind)
    except IntegrityError:
        pass  # A concurrent identical request won; the result is the same.
    return selectors.tweet_engagement(tweet_id=tweet.pk)


def engagement_remove(*, user, tweet: Tweet, kind: str) -> dict:
    """Undo `user`'s `kind` of `tweet`, if any. Return the tweet's engagement."""
    with transaction.atomic():
        # Model.delete (not QuerySet.delete) so post_delete decrements the counter.
        for engagement in Engagement.objects.filter(user=user, tweet=tweet, kind=kind):
            engagement.delete()
    return selectors.tweet_engagement(tweet_id=tweet.pk)


def engagement_counted(*, engagement: Engagement, delta: int) -> None:
    """Move the tweet's counter for `engagement.kind` by `delta` and tell its watchers.

    Called for every saved or deleted Engagement, whoever saved it (API,
    admin, shell), so the counters always match the rows.
    """
    _counter_add(tweet_id=engagement.tweet_id, field=engagement.counter_field, delta=delta)


def reply_counted(*, reply: Tweet, delta: int) -> None:
    """Move the replied-to tweet's reply counter by `delta` and tell its watchers."""
    if reply.reply_to_id is not None:
        _counter_add(tweet_id=reply.reply_to_id, field="replies_count", delta=delta)


def _counter_add(*, tweet_id: int, field: str, delta: int) -> None:
    # One UPDATE with F() is atomic in the database: concurrent likes never
    # overwrite each other's increment. Greatest keeps a counter off -1.
    Tweet.objects.filter(pk=tweet_id).update(**{field: Greatest(F(field) + delta, 0)})
    engagement_changed(tweet_id=tweet_id)


# One per process: coalesces the updates of each tweet (PROTOCOL.md).
_updates = Throttle("engagement")


def engagement_changed(*, tweet_id: int) -> None:
    """Send the tweet's counters to its watchers once the transaction commits:
    the first change at once, then at most one update per
    REALTIME_ENGAGEMENT_COALESCE_SECONDS.

    The counters are read when the update is sent, not when they changed, so
    the last update of a burst (or of racing transactions) carries the final
    counts.
    """
    transaction.on_commit(
        lambda: _updates.submit(
            tweet_id,
            settings.REALTIME_ENGAGEMENT_COALESCE_SECONDS,
            lambda: engagement_send_current(tweet_id=tweet_id),
        )
    )


def engagement_send_current(*, tweet_id: int) -> None:
    """Send the tweet's committed counters to its watchers now."""
    data = selectors.tweet_engagement(tweet_id=tweet_id)
    if data is not None:
        events.broadcast_engagement_update(group=groups.tweet_watchers(tweet_id), engagement=data)


# --- Typing ---------------------------------------------------------------
#
# A user is ONE typist on a tweet, however many connections they have open to
# it: watchers hear "started" when the first of them starts and "stopped" when
# the last one stops, goes quiet or closes, never "alice stopped" from one tab
# while another still types. The budget of changes is the user's on that
# tweet, not each connection's: fifty sockets share one, so they cannot send
# fifty times the changes to every watcher.
#
# Kept in this process's memory: with several server processes, a user's
# connections on different processes are a typist (and a budget) per
# process, so watchers may hear of them once per process.


class _Typist:
    """One user typing a reply to one tweet, over their connections to it here."""

    def __init__(self) -> None:
        rate = settings.REALTIME_TYPING_CHANGES_PER_SECOND
        self.budget = RateLimit(rate, burst=2 * rate)
        # The connections that sent typing: the record lives while one is open.
        self.channels: set[str] = set()
        # The connections typing now, each with the task that ends it when
        # that connection goes quiet.
        self.expiries: dict[str, asyncio.Task] = {}
        # What watchers were last told; changes reach them in order.
        self.reported = False
        self.announcing = asyncio.Lock()

    @property
    def typing(self) -> bool:
        return bool(self.expiries)


# (user id, tweet id) -> the user's typist record on that tweet.
_typists: dict[tuple[int, int], _Typist] = {}


async def typing_change(*, tweet_id: int, user, channel: str, is_typing: bool) -> bool:
    """Record that connection `channel` of `user` is typing a reply to
    `tweet_id`, or stopped; tell the tweet's other watchers when the user as a
    whole starts or stops. Repeating "typing" only restarts the connection's
    REALTIME_TYPING_TIMEOUT_SECONDS.

    Return False, changing nothing, when the change would reach the watchers
    and the user has spent their REALTIME_TYPING_CHANGES_PER_SECOND on this
    tweet.
    """
    key = (user.pk, int(tweet_id))
    typist = _typists.get(key)
    if typist is None:
        typist = _typists[key] = _Typist()
    # Before anything can refuse: typing_leave then always releases the record.
    typist.channels.add(channel)
    others_typing = any(other != channel for other in typist.expiries)
    if (is_typing or others_typing) != typist.typing and not typist.budget.allow():
        return False
    _stop_expiry(typist, channel)
    if is_typing:
        typist.expiries[channel] = asyncio.create_task(
            _expire(typist, tweet_id=tweet_id, user=user, channel=channel)
        )
    await _report(typist, tweet_id=tweet_id, user=user, channel=channel)
    return True


async def typing_leave(*, tweet_id: int, user, channel: str) -> None:
    """Forget connection `channel` of `user` on `tweet_id` (it closed): if it
    was the user's last one typing, tell the watchers they stopped. Forget
    the user's typist record with the last of their connections that sent
    typing."""
    key = (user.pk, int(tweet_id))
    typist = _typists.get(key)
    if typist is None or channel not in typist.channels:
        return
    typist.channels.discard(channel)
    _stop_expiry(typist, channel)
    await _report(typist, tweet_id=tweet_id, user=user, channel=channel)
    # After the report: a connection that joined meanwhile keeps the record
    # (and its budget) rather than getting a fresh one.
    if not typist.channels and _typists.get(key) is typist:
        del _typists[key]


def _stop_expiry(typist: _Typist, channel: str) -> None:
    expiry = typist.expiries.pop(channel, None)
    if expiry is not None:
        expiry.cancel()


async def _expire(typist: _Typist, *, tweet_id, user, channel: str) -> None:
    # A typist who goes quiet (or whose tab died) is reported stopped.
    await asyncio.sleep(settings.REALTIME_TYPING_TIMEOUT_SECONDS)
    if typist.expiries.get(channel) is asyncio.current_task():
        del typist.expiries[channel]
        await _report(typist, tweet_id=tweet_id, user=user, channel=channel)


async def _report(typist: _Typist, *, tweet_id, user, channel: str) -> None:
    # One announcement at a time per typist, each of the state as it is when
    # its turn comes: two connections changing at once cannot reach the
    # watchers as "stopped" then "started" when the user last stopped.
    async with typist.announcing:
        if typist.reported != typist.typing:
            typist.reported = typist.typing
            await typing_announce(
                tweet_id=tweet_id, user=user, is_typing=typist.reported, exclude_channel=channel
            )


async def typing_announce(*, tweet_id, user, is_typing: bool, exclude_channel: str) -> None:
    """Tell everyone else watching `tweet_id` that `user` started or stopped typing.

    Typing has no database row: it goes out at once, not on commit. The
    connection that caused it does not hear it; the user's other connections
    to the tweet do, as any watcher would.
    """
    await broadcast_now(
        group=groups.tweet_watchers(tweet_id),
        kind=protocol.TYPING,
        data=events.typing_payload(tweet_id=tweet_id, user=user, is_typing=is_typing),
        exclude_channel=exclude_channel,
    )
