"""How a feature app describes a stream, in one place: its name, who may
subscribe, its group, what a subscriber gets at once (a snapshot, or the
rows missed since an id) and which client messages it takes. The toolkit's
consumers serve every stream from this description, on its single-stream
endpoint and on `/ws/` alike."""

from ..events.replay import Replay
from ..stream_database import database_sync_to_async
from . import names
from .access import AccessDenied, CloseCode

# Shared: each `frozenset()` is a new object (a set's size), and a
# connection holds many subscriptions, most of them never replayed.
NOTHING_REPLAYED: frozenset[str] = frozenset()


class Subscription:
    """One connection's subscription to one stream (a tab holds many: what
    each keeps is what every idle tab costs the server)."""

    __slots__ = ("stream", "id", "name", "user", "channel", "replayed_ids")

    def __init__(self, stream: "Stream", id: int | None, *, user, channel: str):
        self.stream = stream
        # The id in the stream's name (a user's or a tweet's), None for `trending`.
        self.id = id
        self.name = stream.name(id)
        self.user = user
        self.channel = channel
        # Rows its resume sent: live messages carrying them are not sent again.
        self.replayed_ids = NOTHING_REPLAYED

    @property
    def group(self) -> str:
        # Made when joining or leaving it, not kept.
        return names.group_of(self.name)

    @property
    def signed_in(self) -> bool:
        return self.user is not None and self.user.is_authenticated


class Stream:
    """A stream as its app describes it. Subclass and set `kind`; override
    what the stream has."""

    # The name's first part (`notifications`), and the stream's name in
    # /ws/stats, presence and metrics.
    kind = ""
    # The name of the id in the stream's name and in its single-stream URL
    # (`user_id`, `tweet_id`); None for a stream named by its kind alone.
    id_name: str | None = None
    # Streams of one user (notifications, feed): they count toward
    # `active_users` and the per-user connection limit.
    per_user = False
    # Streams of database rows a client resumes with `since`.
    resumable = False
    # Client message `type` -> name of the method of this description taking
    # `(subscription, message)` (besides ping, subscribe and unsubscribe).
    client_messages: dict[str, str] = {}

    def name(self, id=None) -> str:
        return names.stream_name(self.kind, None if self.id_name is None else id)

    def group(self, id=None) -> str:
        """The channel-layer group a message to this stream is sent to."""
        return names.group_of(self.name(id))

    @property
    def path(self) -> str:
        """Its single-stream URL pattern, after `^ws/`."""
        return self.kind if self.id_name is None else f"{self.kind}/(?P<{self.id_name}>[^/]+)"

    async def authorize(self, user, raw_id: str | None) -> None:
        """Raise AccessDenied when `user` may not subscribe. `raw_id` is the
        id as the client sent it (the single-stream URL's, maybe malformed)."""

    async def snapshot(self, subscription: Subscription) -> list[tuple[str, dict]]:
        """The (kind, data) messages a subscriber gets at once (none by default)."""
        return []

    async def replay(self, subscription: Subscription, since: int) -> Replay | None:
        """What a subscriber resuming after row `since` missed (resumable streams)."""
        return None

    def without_replayed(self, data: dict, replayed: frozenset[str]) -> dict | None:
        """`data` minus rows already replayed (for messages of several rows)."""
        return data

    async def left(self, subscription: Subscription) -> None:
        """Release what the stream holds for a subscription that ended."""


class OwnRowsStream(Stream):
    """A stream of database rows for one user (notifications, feed): its
    owner only, resumable with `since`. Subclass, set `kind` and write
    `missed`."""

    id_name = "user_id"
    per_user = True
    resumable = True

    async def authorize(self, user, raw_id):
        require_owner(user, raw_id)

    async def replay(self, subscription, since):
        return await database_sync_to_async(self.missed)(user=subscription.user, since=since)

    def missed(self, *, user, since: int) -> Replay:
        """What `user` missed after row `since` (runs in the database thread)."""
        raise NotImplementedError


def require_signed_in(user) -> None:
    if user is None or not user.is_authenticated:
        raise AccessDenied(CloseCode.NOT_AUTHENTICATED, "authentication required")


def require_owner(user, raw_id) -> None:
    """Allow only the signed-in user whose id is `raw_id`."""
    require_signed_in(user)
    if str(user.pk) != str(raw_id):
        raise AccessDenied(CloseCode.FORBIDDEN, "this stream belongs to another user")
