from realtime_project.realtime.consumers import StreamConsumer
from realtime_project.realtime.stream_database import database_sync_to_async

from . import events, groups, selectors


class FeedConsumer(StreamConsumer):
    """/ws/feed/<user_id>[?since=<tweet_id>]: new tweets by followed authors; owner only."""

    stream = groups.STREAM
    per_user = True
    resumable = True

    async def authorize(self):
        self.require_owner(self.url_arg("user_id"))

    def stream_groups(self):
        return [groups.user_feed(self.user.pk)]

    async def replay_since(self, since):
        return await database_sync_to_async(selectors.feed_replay)(user=self.user, since=since)

    def without_replayed(self, data, replayed):
        tweets = [tweet for tweet in data["tweets"] if tweet["tweet_id"] not in replayed]
        return events.feed_data(tweets) if tweets else None
