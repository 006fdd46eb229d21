"""Writes of engagements and counters, and the engagement stream's broadcasts."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest

from feed.models import Tweet
from realtime_project.realtime import envelope
from realtime_project.realtime.broadcast import (
    atomic_in_commit_order,
    broadcast_engagement_update,
    broadcast_now,
)
from realtime_project.realtime.throttle import Throttle

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
        broadcast_engagement_update(group=groups.tweet_watchers(tweet_id), engagement=data)


async def typing_announce(*, tweet_id, user, is_typing: bool, exclude_channel: str) -> None:
    """Tell everyone else watching `tweet_id` that `user` started or stopped typing.

    Typing has no database row: it goes out at once, not on commit.
    """
    await broadcast_now(
        group=groups.tweet_watchers(tweet_id),
        kind=envelope.TYPING,
        data=events.typing_payload(tweet_id=tweet_id, user=user, is_typing=is_typing),
        exclude_channel=exclude_channel,
    )
