"""Writes of tweets and follows, and the feed stream's broadcasts."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from realtime_project.realtime.cluster.presence import users_online
from realtime_project.realtime.events.ordering import atomic_in_commit_order
from realtime_project.visible_text import visible_text

from . import events, groups, selectors
from .models import Follow, Tweet
from .parsing import tweet_topics


def tweet_create(*, author, content: str, topics: list[str] | None = None, reply_to=None) -> Tweet:
    """Save a tweet by `author`; its #hashtags join the explicit `topics`.

    Raise ValidationError for content or topics that are empty, over-long,
    or unreadable (nothing visible, control or bidirectional characters:
    realtime_project/visible_text.py), with the errors of each field.
    """
    errors = {}
    try:
        content = tweet_content_validate(content=content)
    except ValidationError as error:
        errors["content"] = error.messages
    try:
        topics = [visible_text(topic.strip(), field="topic") for topic in topics or []]
    except ValidationError as error:
        errors["topics"] = error.messages
    if errors:
        raise ValidationError(errors)
    with atomic_in_commit_order():
        return Tweet.objects.create(
            author=author,
            content=content,
            topics=tweet_topics(content, topics),
            reply_to=reply_to,
        )


def tweet_content_validate(*, content: str) -> str:
    """Return a tweet's text as it is stored (trimmed, NFC); raise
    ValidationError when it is empty, over-long or unreadable.

    For any form that saves a Tweet itself (the admin), so that it stores
    only what tweet_create would."""
    content = (content or "").strip()
    if not content:
        raise ValidationError("A tweet cannot be empty.")
    content = visible_text(content, field="tweet")
    # Measured after normalising: NFC lengthens a few characters (U+0958,
    # excluded from composition, becomes two), so the raw length proves nothing.
    if len(content) > settings.TWEET_MAX_LENGTH:
        raise ValidationError(f"A tweet has at most {settings.TWEET_MAX_LENGTH} characters.")
    return content


def tweet_announce(*, tweet: Tweet) -> None:
    """Send a new tweet to the feeds of its author's followers after commit.

    Only followers with a feed connection open somewhere are sent to (as
    Mastodon does): an author with 100k followers of whom 50 are online
    costs 50 sends. The others read it from the API or a resume.

    Who is online is read after the commit, not at save time: a follower
    whose feed opens in between replays from the database before the tweet
    is committed, so only a live send can reach them.
    """
    payload = events.tweet_payload(tweet)
    transaction.on_commit(lambda: _send_to_online_followers(author_id=tweet.author_id, payload=payload))


def _send_to_online_followers(*, author_id: int, payload: dict) -> None:
    online = users_online(stream=groups.STREAM)
    follower_ids = selectors.follower_ids(user_id=author_id, among=online)
    if follower_ids:
        # Outside any transaction now: this sends at once.
        events.broadcast_feed_update(
            groups=[groups.user_feed(user_id) for user_id in follower_ids],
            tweets=[payload],
        )


def follow_create(*, follower, followee) -> Follow:
    """Make `follower` follow `followee`; following twice is harmless.

    Raise ValidationError when a user tries to follow themselves.
    """
    if follower.pk == followee.pk:
        raise ValidationError({"user": "You cannot follow yourself."})
    try:
        with atomic_in_commit_order():
            follow, _ = Follow.objects.get_or_create(follower=follower, followee=followee)
    except IntegrityError:
        # A concurrent request created it between our get and create.
        follow = Follow.objects.get(follower=follower, followee=followee)
    return follow


def follow_delete(*, follower, followee) -> bool:
    """Stop `follower` following `followee`. Return whether a follow existed."""
    deleted, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
    return deleted > 0
