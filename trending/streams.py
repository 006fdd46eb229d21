"""The trending stream, as the toolkit's consumers serve it on
`/ws/trending` and as `trending` on `/ws/`: open to anyone, the latest
topics at once, then each change."""

from realtime_project.realtime import protocol
from realtime_project.realtime.stream_database import database_sync_to_async
from realtime_project.realtime.streams import Stream

from . import groups, selectors


class TrendingStream(Stream):
    kind = groups.STREAM

    async def snapshot(self, subscription):
        return [(protocol.TRENDING, await database_sync_to_async(selectors.trending_latest)())]


TRENDING = TrendingStream()
