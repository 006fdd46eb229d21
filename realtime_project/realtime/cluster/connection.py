"""This process's name among the server processes, and its Redis clients
for what they share (presence, leases), from REDIS_URL."""

import asyncio
import os
import socket
import uuid

import redis
import redis.asyncio as aioredis
from django.conf import settings

PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

_async_clients: dict[int, aioredis.Redis] = {}
_sync_client: redis.Redis | None = None


def async_client() -> aioredis.Redis:
    # redis.asyncio connections belong to the loop that made them.
    loop_id = id(asyncio.get_running_loop())
    if loop_id not in _async_clients:
        _async_clients[loop_id] = aioredis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=3, socket_connect_timeout=3
        )
    return _async_clients[loop_id]


def sync_client() -> redis.Redis:
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=3, socket_connect_timeout=3)
    return _sync_client
