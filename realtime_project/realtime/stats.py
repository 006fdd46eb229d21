"""Counts of open WebSocket connections in this process, behind GET /ws/stats."""

from collections import Counter

from django.http import JsonResponse


class ConnectionRegistry:
    """Count open connections by kind and by user.

    Consumers call `opened`/`closed` from the event loop thread only, so no
    lock is needed.
    """

    def __init__(self) -> None:
        # Notifications and feed connections, by user (the stats' "user" kind).
        self._user_connections: Counter[int] = Counter()
        self._global_connections = 0
        # Every connection of a signed-in user, whatever the stream (for limits).
        self._sockets_by_user: Counter[int] = Counter()

    def opened(self, *, user_id: int | None, per_user: bool) -> None:
        """Count one connection of `user_id` (None: anonymous); `per_user` for
        notifications and feed, else trending or engagement."""
        if per_user:
            self._user_connections[user_id] += 1
        else:
            self._global_connections += 1
        if user_id is not None:
            self._sockets_by_user[user_id] += 1

    def closed(self, *, user_id: int | None, per_user: bool) -> None:
        """Forget one connection counted by `opened` with the same arguments."""
        if per_user:
            _decrement(self._user_connections, user_id)
        else:
            self._global_connections = max(0, self._global_connections - 1)
        if user_id is not None:
            _decrement(self._sockets_by_user, user_id)

    def connections_of(self, user_id: int) -> int:
        """How many connections `user_id` has open in this process."""
        return self._sockets_by_user.get(user_id, 0)

    def snapshot(self) -> dict:
        """Return the figures of PROTOCOL.md's "Connection statistics"."""
        user_connections = sum(self._user_connections.values())
        return {
            "active_users": len(self._user_connections),
            "total_user_connections": user_connections,
            "global_connections": self._global_connections,
            "total_connections": user_connections + self._global_connections,
        }


def _decrement(counter: Counter, key) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


registry = ConnectionRegistry()


async def stats_view(request):
    """GET /ws/stats: the connection counts as JSON."""
    if request.method != "GET":
        return JsonResponse({"detail": "Method not allowed."}, status=405)
    return JsonResponse(registry.snapshot())
