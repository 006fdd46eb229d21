"""Reads of a tweet's engagement."""

from feed.models import Tweet

from . import events

COUNTER_COLUMNS = ["id", "likes_count", "retweets_count", "replies_count", "bookmarks_count"]


def tweet_engagement(*, tweet_id) -> dict | None:
    """The `engagement_update` data of tweet `tweet_id`, or None if it is gone."""
    tweet = Tweet.objects.only(*COUNTER_COLUMNS).filter(pk=tweet_id).first()
    return events.engagement_payload(tweet) if tweet else None


def tweets_engagement(*, tweet_ids) -> dict[int, dict]:
    """Tweet id -> its `engagement_update` data, for those of `tweet_ids` that exist."""
    tweets = Tweet.objects.only(*COUNTER_COLUMNS).filter(pk__in=tweet_ids)
    return {tweet.pk: events.engagement_payload(tweet) for tweet in tweets}
