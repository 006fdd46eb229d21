"""Counts of open WebSocket connections in this process, behind GET /ws/stats."""

from collections import Counter

from django.http import JsonResponse


class ConnectionRegistry:
    """Count open connections by kind and by user.

    Consumers call `opened`/`closed` from the event loop thread only, so no
    lock is needed.
    """

    def __init__(self) -> None:
        self._user_connections: Counter[int] = Counter()
        self._global_connections = 0

    def opened(self, *, user_id: int | None) -> None:
        """Count one connection: a per-user one if `user_id`, else a global one."""
        if user_id is None:
            self._global_connections += 1
        else:
            self._user_connections[user_id] += 1

    def closed(self, *, user_id: int | None) -> None:
        """Forget one connection counted by `opened` with the same `user_id`."""
        if user_id is None:
            self._global_connections = max(0, self._global_connections - 1)
            return
        self._user_connections[user_id] -= 1
        if self._user_connections[user_id] <= 0:
            del self._user_connections[user_id]

    def snapshot(self) -> dict:
        """Return the figures of PROTOCOL.md's "Connection statistics"."""
        user_connections = sum(self._user_connections.values())
        return {
            "active_users": len(self._user_connections),
            "total_user_connections": user_connections,
            "global_connections": self._global_connections,
            "total_connections": user_connections + self._global_connections,
        }


registry = ConnectionRegistry()


async def stats_view(request):
    """GET /ws/stats: the connection counts as JSON."""
    if request.method != "GET":
        return JsonResponse({"detail": "Method not allowed."}, status=405)
    return JsonResponse(registry.snapshot())
