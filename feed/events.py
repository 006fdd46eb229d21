"""Payloads of the feed stream: model -> JSON-safe dict."""

from .models import Tweet
from .serializers import TweetSerializer


def tweet_payload(tweet: Tweet) -> dict:
    """The tweet as every client meets it (REST and `feed_update` alike)."""
    return TweetSerializer(tweet).data
