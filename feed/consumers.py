from realtime_project.realtime.consumers import StreamConsumer

from . import groups


class FeedConsumer(StreamConsumer):
    """/ws/feed/<user_id>: new tweets by the authors that user follows; owner only."""

    per_user = True

    async def authorize(self):
        self.require_owner(self.url_arg("user_id"))

    def stream_groups(self):
        return [groups.user_feed(self.user.pk)]
