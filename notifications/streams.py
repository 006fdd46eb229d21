"""The notifications stream, as the toolkit's consumers serve it on
`/ws/notifications/<user_id>` and as `notifications/<user_id>` on `/ws/`:
who may subscribe, its group, and the resume of missed notifications."""

from realtime_project.realtime.stream_database import database_sync_to_async
from realtime_project.realtime.streams import Stream
from realtime_project.realtime.streams.description import require_owner

from . import groups, selectors


class NotificationsStream(Stream):
    """One user's notifications; its owner only; resumable with `since`."""

    kind = groups.STREAM
    id_name = "user_id"
    per_user = True
    resumable = True

    async def authorize(self, user, raw_id):
        require_owner(user, raw_id)

    async def replay(self, subscription, since):
        return await database_sync_to_async(selectors.notifications_replay)(
            user=subscription.user, since=since
        )


NOTIFICATIONS = NotificationsStream()
