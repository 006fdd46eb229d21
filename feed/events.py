"""The feed stream's messages: payloads (model -> JSON-safe dict) and their
broadcast."""

from collections.abc import Iterable

from realtime_project.realtime import protocol
from realtime_project.realtime.events.broadcast import broadcast_on_commit
from realtime_project.realtime.events.payloads import Payloads

from .models import Tweet
from .serializers import TweetSerializer

PAYLOADS = Payloads(TweetSerializer)


def tweet_payload(tweet: Tweet) -> dict:
    """The tweet as every client meets it (REST and `feed_update` alike)."""
    return PAYLOADS.of(tweet)


def tweet_payloads(tweets: list[Tweet]) -> list[dict]:
    """`tweet_payload` of each of `tweets`."""
    return PAYLOADS.of_many(tweets)


def feed_data(tweets: list[dict]) -> dict:
    """The `data` of a `feed_update` message for `tweets`."""
    return {"tweets": tweets, "count": len(tweets)}


def broadcast_feed_update(*, groups: Iterable[str], tweets: list[dict]) -> None:
    """Send new `tweets` as one `feed_update` to each of `groups` after commit."""
    broadcast_on_commit(
        groups=groups,
        kind=protocol.FEED_UPDATE,
        data=feed_data(tweets),
        ids=[tweet["tweet_id"] for tweet in tweets],
    )
