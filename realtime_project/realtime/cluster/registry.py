"""Who is connected to which stream: counted per process, combined over all
processes that share the channel layer (presence.py), behind GET /ws/stats (ops/stats.py).
"""

import threading
from collections import Counter, defaultdict


class ConnectionRegistry:
    """Count this process's open connections by stream and by user.

    Consumers call `opened`/`closed` from the event loop thread, but the
    feed's fan-out reads `export` from request threads: a dict resized while
    another thread iterates it can skip entries without an error, and a
    follower would look offline. Hence the lock (uncontended, sub-microsecond).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # stream -> user id -> open connections of signed-in users.
        self._users: dict[str, Counter[int]] = defaultdict(Counter)
        # stream -> open anonymous connections.
        self._anonymous: Counter[str] = Counter()
        # Streams that belong to one user (notifications, feed).
        self._per_user_streams: set[str] = set()
        # Notifications and feed connections of each user (for limits).
        self._sockets_by_user: Counter[int] = Counter()
        # stream -> user id -> subscriptions held on `/ws/` connections:
        # presence only (users_online), since /ws/stats counts a `/ws/`
        # connection once, as the connection it is (opened/closed).
        self._subscribed: dict[str, Counter[int]] = defaultdict(Counter)
        self.version = 0  # bumped on every change, so publishers know when to publish

    def opened(self, *, stream: str, user_id: int | None, per_user: bool) -> None:
        """Count one connection of `user_id` (None: anonymous) to `stream`."""
        with self._lock:
            self._opened(stream, user_id, per_user)

    def _opened(self, stream: str, user_id: int | None, per_user: bool) -> None:
        if per_user:
            self._per_user_streams.add(stream)
        if user_id is None:
            self._anonymous[stream] += 1
        else:
            self._users[stream][user_id] += 1
            if per_user:
                self._sockets_by_user[user_id] += 1
        self.version += 1

    def closed(self, *, stream: str, user_id: int | None) -> None:
        """Forget one connection counted by `opened` with the same arguments."""
        with self._lock:
            self._closed(stream, user_id)

    def _closed(self, stream: str, user_id: int | None) -> None:
        if user_id is None:
            _decrement(self._anonymous, stream)
        else:
            _decrement(self._users[stream], user_id)
            if stream in self._per_user_streams:
                _decrement(self._sockets_by_user, user_id)
        self.version += 1

    def moved(self, *, stream: str, to: str, user_id: int | None, per_user: bool) -> None:
        """A connection counted under `stream` now counts under `to`."""
        with self._lock:
            self._closed(stream, user_id)
            self._opened(to, user_id, per_user)

    def subscribed(self, *, stream: str, user_id: int) -> None:
        """A `/ws/` connection of `user_id` holds a `stream` subscription."""
        with self._lock:
            self._subscribed[stream][user_id] += 1
            self.version += 1

    def unsubscribed(self, *, stream: str, user_id: int) -> None:
        with self._lock:
            _decrement(self._subscribed[stream], user_id)
            self.version += 1

    def connections_of(self, user_id: int) -> int:
        """How many notifications and feed connections `user_id` has open here."""
        return self._sockets_by_user.get(user_id, 0)

    def export(self) -> dict:
        """This process's counts as JSON-safe data (what presence.py publishes)."""
        with self._lock:
            return self._export()

    def _export(self) -> dict:
        return {
            "users": {
                stream: {str(uid): n for uid, n in users.items()}
                for stream, users in self._users.items()
                if users
            },
            "anonymous": {stream: n for stream, n in self._anonymous.items() if n},
            "per_user_streams": sorted(self._per_user_streams),
            "subscribed": {
                stream: {str(uid): n for uid, n in users.items()}
                for stream, users in self._subscribed.items()
                if users
            },
        }

    def snapshot(self) -> dict:
        """PROTOCOL.md's statistics for this process alone."""
        return combine([self.export()])


def combine(exports: list[dict]) -> dict:
    """PROTOCOL.md's "Connection statistics" over the exports of several processes.

    `active_users` counts a user once however many processes they are on.
    """
    active_users: set[str] = set()
    user_connections = global_connections = 0
    for export in exports:
        per_user = set(export.get("per_user_streams", []))
        for stream, users in export.get("users", {}).items():
            if stream in per_user:
                active_users.update(users)
                user_connections += sum(users.values())
            else:
                global_connections += sum(users.values())
        global_connections += sum(
            n for stream, n in export.get("anonymous", {}).items() if stream not in per_user
        )
    return {
        "active_users": len(active_users),
        "total_user_connections": user_connections,
        "global_connections": global_connections,
        "total_connections": user_connections + global_connections,
    }


def online_in(exports: list[dict], stream: str) -> set[int]:
    """Ids of the users with at least one `stream` connection or `/ws/`
    subscription in any of `exports`."""
    return {
        int(uid)
        for export in exports
        for counts in (export.get("users", {}), export.get("subscribed", {}))
        for uid in counts.get(stream, {})
    }


def _decrement(counter: Counter, key) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


registry = ConnectionRegistry()
