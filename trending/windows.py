"""Time buckets and the two windows a recompute compares (pure, no database).

Counters are kept at two widths: buckets of `bucket_seconds` (one minute by
default) and blocks of BLOCK_BUCKETS buckets (ten minutes), each aligned on
the Unix epoch and named by its start in Unix seconds. A window is read as
whole blocks where it covers them and single buckets at its two ragged
ends, so a recompute reads about a quarter of the rows that buckets alone
would take, with the precision of a bucket.

The current window is the `window_minutes` worth of buckets ending with the
bucket that holds `now` (still filling, so the window spans between
`window - bucket` and `window` of real time); the previous window is as many
buckets right before it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

# Buckets per block: 10 one-minute buckets make a ten-minute block.
BLOCK_BUCKETS = 10


def bucket_start(moment: datetime, *, bucket_seconds: int) -> int:
    """Return the start (Unix seconds) of the bucket of `bucket_seconds` holding `moment`."""
    epoch = int(moment.timestamp())
    return epoch - epoch % bucket_seconds


def bucket_time(start: int) -> datetime:
    """Return the bucket start `start` as an aware UTC datetime."""
    return datetime.fromtimestamp(start, tz=UTC)


@dataclass(frozen=True)
class Span:
    """The counter rows of width `seconds` whose start is in [first, end)."""

    seconds: int
    first: int
    end: int


def cover(first: int, end: int, *, bucket_seconds: int) -> list[Span]:
    """Return the rows that add up to [first, end) exactly: whole blocks inside
    it, buckets before the first block and after the last."""
    block = bucket_seconds * BLOCK_BUCKETS
    first_block = -(-first // block) * block
    end_block = end // block * block
    if first_block >= end_block:
        return [Span(bucket_seconds, first, end)]
    spans = [
        Span(bucket_seconds, first, first_block),
        Span(block, first_block, end_block),
        Span(bucket_seconds, end_block, end),
    ]
    return [span for span in spans if span.first < span.end]


@dataclass(frozen=True)
class Windows:
    """The current and the previous window, as bucket starts (Unix seconds)."""

    previous_start: int  # first bucket of the previous window
    current_start: int  # first bucket of the current window
    last: int  # the bucket holding `now`, the last of the current window
    bucket_seconds: int

    def spans(self) -> list[Span]:
        """The rows to read: the previous window's, then the current one's."""
        return [
            *cover(self.previous_start, self.current_start, bucket_seconds=self.bucket_seconds),
            *cover(
                self.current_start,
                self.last + self.bucket_seconds,
                bucket_seconds=self.bucket_seconds,
            ),
        ]


def windows_at(now: datetime, *, window_minutes: int, bucket_seconds: int) -> Windows:
    """Return the current and previous windows of `window_minutes` at `now`.

    A window that is not a whole number of buckets is rounded up to one.
    """
    count = max(1, -(-window_minutes * 60 // bucket_seconds))
    last = bucket_start(now, bucket_seconds=bucket_seconds)
    current_start = last - (count - 1) * bucket_seconds
    return Windows(
        previous_start=current_start - count * bucket_seconds,
        current_start=current_start,
        last=last,
        bucket_seconds=bucket_seconds,
    )
