"""The feed stream, as the toolkit's consumers serve it on
`/ws/feed/<user_id>` and as `feed/<user_id>` on `/ws/`: who may subscribe,
its group, and the resume of missed tweets."""

from realtime_project.realtime.stream_database import database_sync_to_async
from realtime_project.realtime.streams import Stream
from realtime_project.realtime.streams.description import require_owner

from . import events, groups, selectors


class FeedStream(Stream):
    """New tweets by the authors one user follows; its owner only;
    resumable with `since`."""

    kind = groups.STREAM
    id_name = "user_id"
    per_user = True
    resumable = True

    async def authorize(self, user, raw_id):
        require_owner(user, raw_id)

    async def replay(self, subscription, since):
        return await database_sync_to_async(selectors.feed_replay)(user=subscription.user, since=since)

    def without_replayed(self, data, replayed):
        tweets = [tweet for tweet in data["tweets"] if tweet["tweet_id"] not in replayed]
        return events.feed_data(tweets) if tweets else None


FEED = FeedStream()
