"""A lease in Redis: at most one process at a time does a periodic job.

The holder renews the lease each time it runs the job; if it dies, the lease
expires and the next process to ask takes it over. Without REDIS_URL there
is one process, which always holds it.
"""

import logging

import redis
from django.conf import settings

from .connection import PROCESS_ID, async_client

logger = logging.getLogger(__name__)

# Take the lease if it is free; extend it if we already hold it.
_ACQUIRE_OR_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""


class Lease:
    def __init__(self, name: str, *, ttl_seconds: float, holder: str | None = None) -> None:
        self.key = f"realtime:lease:{name}"
        self.ttl_ms = int(ttl_seconds * 1000)
        self.holder = holder or PROCESS_ID

    async def hold(self) -> bool:
        """Take or renew the lease; return whether this process holds it now.

        If Redis cannot be reached, return False: better no run than two.
        """
        if not settings.REDIS_URL:
            return True
        try:
            client = async_client()
            return bool(await client.eval(_ACQUIRE_OR_RENEW, 1, self.key, self.holder, self.ttl_ms))
        except redis.RedisError as error:
            logger.warning("lease %s: Redis unreachable (%s)", self.key, error)
            return False
