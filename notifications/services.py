"""Writes of notifications, and the notifications stream's broadcasts."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from engagement.models import Engagement
from feed.models import Follow, Tweet
from feed.parsing import mentioned_usernames
from realtime_project.realtime.events.ordering import atomic_in_commit_order

from . import events, groups
from .models import Notification

# Doing these twice (like, unlike, like again) must not notify twice.
ONCE_PER_ACTOR = {Notification.Type.LIKE, Notification.Type.RETWEET, Notification.Type.FOLLOW}

ENGAGEMENT_NOTIFIES = {
    Engagement.Kind.LIKE: Notification.Type.LIKE,
    Engagement.Kind.RETWEET: Notification.Type.RETWEET,
    # A bookmark is private: its author is not told.
}


def notification_create(*, recipient, actor, kind: str, tweet: Tweet | None = None):
    """Save a notification for `recipient` about `actor`'s action, unless it is
    their own action or (for LIKE, RETWEET, FOLLOW) they were already told.

    Return the new Notification, or None. Saving it broadcasts it.
    """
    if recipient.pk == actor.pk:
        return None
    with atomic_in_commit_order():
        if (
            kind in ONCE_PER_ACTOR
            and Notification.objects.filter(recipient=recipient, actor=actor, type=kind, tweet=tweet).exists()
        ):
            return None
        return Notification.objects.create(recipient=recipient, actor=actor, type=kind, tweet=tweet)


def notification_announce(*, notification: Notification) -> None:
    """Send a saved notification to its recipient's open connections after commit."""
    events.broadcast_notification(
        group=groups.user_notifications(notification.recipient_id),
        notification=events.notification_payload(notification),
    )


def notifications_for_engagement(*, engagement: Engagement) -> None:
    """Tell a tweet's author that someone liked or retweeted it."""
    kind = ENGAGEMENT_NOTIFIES.get(engagement.kind)
    if kind is not None:
        tweet = engagement.tweet
        notification_create(recipient=tweet.author, actor=engagement.user, kind=kind, tweet=tweet)


def notifications_for_follow(*, follow: Follow) -> None:
    notification_create(recipient=follow.followee, actor=follow.follower, kind=Notification.Type.FOLLOW)


def notifications_for_tweet(*, tweet: Tweet) -> None:
    """REPLY to the author of the tweet replied to; MENTION to each `@user` named.

    Someone both replied to and mentioned gets the REPLY only: one event,
    one notification.
    """
    told = set()
    if tweet.reply_to_id is not None and tweet.reply_to is not None:
        parent_author = tweet.reply_to.author
        notification_create(
            recipient=parent_author, actor=tweet.author, kind=Notification.Type.REPLY, tweet=tweet
        )
        told.add(parent_author.pk)
    for user in mentioned_users(tweet.content):
        if user.pk not in told:
            notification_create(
                recipient=user, actor=tweet.author, kind=Notification.Type.MENTION, tweet=tweet
            )


def mentioned_users(content: str) -> list:
    """The active users written as `@username` in `content` (case-insensitive)."""
    names = mentioned_usernames(content)
    if not names:
        return []
    match_any = Q()
    for name in names:
        match_any |= Q(username__iexact=name)
    return list(get_user_model().objects.filter(match_any, is_active=True))


def notification_mark_read(*, user, notification_id) -> int:
    """Mark one of `user`'s notifications read. Return how many changed (0 or 1)."""
    return Notification.objects.filter(recipient=user, pk=notification_id, read=False).update(read=True)


def notifications_mark_all_read(*, user) -> int:
    """Mark all of `user`'s notifications read. Return how many changed."""
    return Notification.objects.filter(recipient=user, read=False).update(read=True)
