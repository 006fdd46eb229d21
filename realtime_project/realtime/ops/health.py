"""Liveness and readiness for load balancers and orchestrators."""

import asyncio
import logging

from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse

from ..stream_database import database_sync_to_async

logger = logging.getLogger(__name__)


async def healthz(request):
    """GET /healthz: the process is alive and its loop answers."""
    return JsonResponse({"status": "ok"})


@database_sync_to_async
def _database_answers() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _channel_layer_answers() -> None:
    # A send to a group nobody is in reaches the layer's backend (a Redis
    # PUBLISH) and leaves nothing behind, unlike a probe channel would.
    await get_channel_layer().group_send("realtime.readyz", {"type": "readyz.probe"})


async def readyz(request):
    """GET /readyz: 200 when the database and the channel layer answer, else 503."""
    checks = {}
    for name, check in (("database", _database_answers), ("channel_layer", _channel_layer_answers)):
        try:
            await asyncio.wait_for(check(), timeout=3)
            checks[name] = "ok"
        except Exception as error:
            logger.warning("readiness check %s failed: %s", name, error)
            checks[name] = "unavailable"
    ready = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503)
