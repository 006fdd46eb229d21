"""The trending stream, as the toolkit's consumers serve it on
`/ws/trending` and as `trending` on `/ws/`: open to anyone, the latest
topics at once, then each change."""

from realtime_project.realtime import protocol
from realtime_project.realtime.streams import Stream
from realtime_project.realtime.streams.batched_read import BatchedRead

from . import groups, selectors

# Every subscriber asking at the same moment gets one read (batched_read.py).
LATEST = BatchedRead(lambda keys: dict.fromkeys(keys, selectors.trending_latest()))


class TrendingStream(Stream):
    kind = groups.STREAM

    async def snapshot(self, subscription):
        return [(protocol.TRENDING, await LATEST.load(None))]


TRENDING = TrendingStream()
