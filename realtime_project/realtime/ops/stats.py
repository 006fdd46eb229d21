"""GET /ws/stats: PROTOCOL.md's connection statistics over every server process."""

from django.http import JsonResponse

from ..cluster.presence import cluster_exports
from ..cluster.registry import combine


async def stats_view(request):
    """The connection counts of every server process, as JSON."""
    if request.method != "GET":
        return JsonResponse({"detail": "Method not allowed."}, status=405)
    return JsonResponse(combine(await cluster_exports()))
