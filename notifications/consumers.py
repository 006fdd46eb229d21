from realtime_project.realtime.consumers import StreamConsumer

from . import groups


class NotificationConsumer(StreamConsumer):
    """/ws/notifications/<user_id>: that user's new notifications; owner only."""

    per_user = True

    async def authorize(self):
        self.require_owner(self.url_arg("user_id"))

    def stream_groups(self):
        return [groups.user_notifications(self.user.pk)]
