"""The notifications stream, as the toolkit's consumers serve it on
`/ws/notifications/<user_id>` and as `notifications/<user_id>` on `/ws/`:
one user's notifications; its owner only; resumable with `since`."""

from realtime_project.realtime.streams.description import OwnRowsStream

from . import groups, selectors


class NotificationsStream(OwnRowsStream):
    kind = groups.STREAM

    def missed(self, *, user, since):
        return selectors.notifications_replay(user=user, since=since)


NOTIFICATIONS = NotificationsStream()
