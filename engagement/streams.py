"""The engagement stream, as the toolkit's consumers serve it on
`/ws/engagement/<tweet_id>` and as `engagement/<tweet_id>` on `/ws/`: one
tweet's live counters and who is typing a reply; open to anyone, the
counters at once; typing from signed-in subscribers."""

from feed import selectors as feed_selectors
from realtime_project.realtime import protocol
from realtime_project.realtime.streams import Stream
from realtime_project.realtime.streams.access import AccessDenied, ClientError, CloseCode
from realtime_project.realtime.streams.batched_read import BatchedRead
from realtime_project.realtime.streams.names import parse_row_id

from . import groups, selectors, services

# A tweet on many screens is looked up and counted once for all the
# subscribers asking at the same moment (batched_read.py).
EXISTING = BatchedRead(lambda ids: feed_selectors.tweets_existing(tweet_ids=ids))
COUNTERS = BatchedRead(lambda ids: selectors.tweets_engagement(tweet_ids=ids))


class EngagementStream(Stream):
    kind = groups.STREAM
    id_name = "tweet_id"
    client_messages = {"typing": "typing"}

    async def authorize(self, user, raw_id):
        tweet_id = parse_row_id(raw_id)
        if tweet_id is None or not await EXISTING.load(tweet_id):
            raise AccessDenied(CloseCode.NOT_FOUND, "no such tweet")

    async def snapshot(self, subscription):
        data = await COUNTERS.load(subscription.id)
        return [(protocol.ENGAGEMENT_UPDATE, data)] if data is not None else []

    async def typing(self, subscription, message):
        if not subscription.signed_in:
            raise ClientError("unauthenticated", "sign in to send typing indicators")
        is_typing = message.get("is_typing")
        if not isinstance(is_typing, bool):
            raise ClientError("invalid_message", '"is_typing" must be true or false')
        # The user's budget on this tweet, shared by all their connections
        # (services.typing_change): a refusal leaves this one open.
        changed = await services.typing_change(
            tweet_id=subscription.id,
            user=subscription.user,
            channel=subscription.channel,
            is_typing=is_typing,
        )
        if not changed:
            raise ClientError("rate_limited", "typing changes too often")

    async def left(self, subscription):
        if subscription.signed_in:
            await services.typing_leave(
                tweet_id=subscription.id, user=subscription.user, channel=subscription.channel
            )


ENGAGEMENT = EngagementStream()
