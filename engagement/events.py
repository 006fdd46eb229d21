"""Payloads of the engagement stream: model -> JSON-safe dict."""

from feed.models import Tweet
from feed.serializers import EngagementCountsSerializer, display_name


def engagement_payload(tweet: Tweet) -> dict:
    """`{"tweet_id", "engagement": {likes, replies, retweets, bookmarks}}`."""
    return {"tweet_id": str(tweet.pk), "engagement": EngagementCountsSerializer(tweet).data}


def typing_payload(*, tweet_id, user, is_typing: bool) -> dict:
    return {
        "tweet_id": str(tweet_id),
        "user_id": str(user.pk),
        "user_name": display_name(user),
        "is_typing": is_typing,
    }
