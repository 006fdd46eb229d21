from feed import selectors as feed_selectors
from realtime_project.realtime import protocol
from realtime_project.realtime.consumers import AccessDenied, CloseCode, StreamConsumer
from realtime_project.realtime.stream_database import database_sync_to_async

from . import groups, selectors, services


class EngagementConsumer(StreamConsumer):
    """/ws/engagement/<tweet_id>: live counters of one tweet, and who is typing a reply."""

    stream = groups.STREAM
    client_messages = {"typing": "receive_typing"}

    async def authorize(self):
        tweet_id = self.url_arg("tweet_id")
        if not await database_sync_to_async(feed_selectors.tweet_exists)(tweet_id=tweet_id):
            raise AccessDenied(CloseCode.NOT_FOUND, "no such tweet")
        self.tweet_id = int(tweet_id)

    def stream_groups(self):
        return [groups.tweet_watchers(self.tweet_id)]

    async def send_snapshot(self):
        data = await database_sync_to_async(selectors.tweet_engagement)(tweet_id=self.tweet_id)
        if data is not None:
            await self.send_message(protocol.ENGAGEMENT_UPDATE, data)

    async def receive_typing(self, message):
        if not self.user.is_authenticated:
            await self.send_error("unauthenticated", "sign in to send typing indicators")
            return
        is_typing = message.get("is_typing")
        if not isinstance(is_typing, bool):
            await self.send_error("invalid_message", '"is_typing" must be true or false')
            return
        # The user's budget on this tweet, shared by all their connections
        # (services.typing_change): a refusal leaves this one open.
        changed = await services.typing_change(
            tweet_id=self.tweet_id, user=self.user, channel=self.channel_name, is_typing=is_typing
        )
        if not changed:
            await self.send_error("rate_limited", "typing changes too often")

    async def on_close(self):
        if self.user is not None and self.user.is_authenticated:
            await services.typing_leave(tweet_id=self.tweet_id, user=self.user, channel=self.channel_name)
