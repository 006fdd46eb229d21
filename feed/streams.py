"""The feed stream, as the toolkit's consumers serve it on
`/ws/feed/<user_id>` and as `feed/<user_id>` on `/ws/`: new tweets by the
authors one user follows; its owner only; resumable with `since`."""

from realtime_project.realtime.streams.description import OwnRowsStream

from . import events, groups, selectors


class FeedStream(OwnRowsStream):
    kind = groups.STREAM

    def missed(self, *, user, since):
        return selectors.feed_replay(user=user, since=since)

    def without_replayed(self, data, replayed):
        tweets = [tweet for tweet in data["tweets"] if tweet["tweet_id"] not in replayed]
        return events.feed_data(tweets) if tweets else None


FEED = FeedStream()
