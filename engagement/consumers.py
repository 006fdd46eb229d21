import asyncio

from channels.db import database_sync_to_async
from django.conf import settings

from feed import selectors as feed_selectors
from realtime_project.realtime import envelope
from realtime_project.realtime.consumers import AccessDenied, CloseCode, StreamConsumer
from realtime_project.realtime.limits import RateLimit

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
        self.typing_expiry: asyncio.Task | None = None
        rate = settings.REALTIME_TYPING_CHANGES_PER_SECOND
        self.typing_changes = RateLimit(rate, burst=2 * rate)

    def stream_groups(self):
        return [groups.tweet_watchers(self.tweet_id)]

    async def send_snapshot(self):
        data = await database_sync_to_async(selectors.tweet_engagement)(tweet_id=self.tweet_id)
        if data is not None:
            await self.send_message(envelope.ENGAGEMENT_UPDATE, data)

    async def receive_typing(self, message):
        if not self.user.is_authenticated:
            await self.send_error("unauthenticated", "sign in to send typing indicators")
            return
        is_typing = message.get("is_typing")
        if not isinstance(is_typing, bool):
            await self.send_error("invalid_message", '"is_typing" must be true or false')
            return
        # Flipping on and off is what reaches every watcher: that is limited.
        if is_typing != (self.typing_expiry is not None) and not self.typing_changes.allow():
            await self.send_error("rate_limited", "typing changes too often")
            return
        await self.set_typing(is_typing)

    async def set_typing(self, is_typing: bool):
        was_typing = self.typing_expiry is not None
        if was_typing:
            self.typing_expiry.cancel()
            self.typing_expiry = None
        if is_typing:
            # A typist who goes quiet (or whose tab died) is reported stopped.
            self.typing_expiry = asyncio.create_task(self.expire_typing())
        # A repeated "still typing" only refreshes the expiry: watchers hear
        # about changes, not every keystroke.
        if is_typing != was_typing:
            await services.typing_announce(
                tweet_id=self.tweet_id,
                user=self.user,
                is_typing=is_typing,
                exclude_channel=self.channel_name,
            )

    async def expire_typing(self):
        await asyncio.sleep(settings.REALTIME_TYPING_TIMEOUT_SECONDS)
        self.typing_expiry = None
        await services.typing_announce(
            tweet_id=self.tweet_id, user=self.user, is_typing=False, exclude_channel=self.channel_name
        )

    async def on_close(self):
        if self.typing_expiry is not None:
            await self.set_typing(False)
