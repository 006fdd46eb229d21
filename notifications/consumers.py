from realtime_project.realtime.consumers import StreamConsumer
from realtime_project.realtime.stream_database import database_sync_to_async

from . import groups, selectors


class NotificationConsumer(StreamConsumer):
    """/ws/notifications/<user_id>[?since=<id>]: that user's notifications; owner only."""

    stream = groups.STREAM
    per_user = True
    resumable = True

    async def authorize(self):
        self.require_owner(self.url_arg("user_id"))

    def stream_groups(self):
        return [groups.user_notifications(self.user.pk)]

    async def replay_since(self, since):
        return await database_sync_to_async(selectors.notifications_replay)(user=self.user, since=since)
