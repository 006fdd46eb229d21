"""The engagement stream's messages: payloads (model -> JSON-safe dict)
and their broadcast."""

from accounts.names import display_name
from feed.models import Tweet
from feed.serializers import EngagementCountsSerializer
from realtime_project.realtime import protocol
from realtime_project.realtime.events.broadcast import broadcast_on_commit
from realtime_project.realtime.events.payloads import Payloads

COUNTS = Payloads(EngagementCountsSerializer)


def engagement_payload(tweet: Tweet) -> dict:
    """`{"tweet_id", "engagement": {likes, replies, retweets, bookmarks}}`."""
    return {"tweet_id": str(tweet.pk), "engagement": COUNTS.of(tweet)}


def typing_payload(*, tweet_id, user, is_typing: bool) -> dict:
    return {
        "tweet_id": str(tweet_id),
        "user_id": str(user.pk),
        "user_name": display_name(user),
        "is_typing": is_typing,
    }


def broadcast_engagement_update(*, group: str, engagement: dict) -> None:
    """Send a tweet's counters (`{"tweet_id", "engagement"}`) to `group` after commit."""
    broadcast_on_commit(groups=[group], kind=protocol.ENGAGEMENT_UPDATE, data=engagement)
