from realtime_project.realtime import protocol
from realtime_project.realtime.consumers import StreamConsumer
from realtime_project.realtime.stream_database import database_sync_to_async

from . import groups, selectors


class TrendingConsumer(StreamConsumer):
    """/ws/trending: anyone; the latest trending topics at once, then each change."""

    stream = groups.STREAM

    def stream_groups(self):
        return [groups.everyone()]

    async def send_snapshot(self):
        data = await database_sync_to_async(selectors.trending_latest)()
        await self.send_message(protocol.TRENDING, data)
