from datetime import UTC, datetime, timedelta

from trending.windows import Span, bucket_start, bucket_time, cover, windows_at


def test_buckets_align_on_whole_minutes_in_utc():
    moment = datetime(2026, 3, 2, 12, 7, 59, 999, tzinfo=UTC)
    assert bucket_time(bucket_start(moment, bucket_seconds=60)) == datetime(2026, 3, 2, 12, 7, tzinfo=UTC)
    assert bucket_time(bucket_start(moment, bucket_seconds=300)) == datetime(2026, 3, 2, 12, 5, tzinfo=UTC)


def test_the_current_window_ends_with_the_filling_bucket_and_the_previous_precedes_it():
    now = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)
    windows = windows_at(now, window_minutes=60, bucket_seconds=60)
    assert bucket_time(windows.last) == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert windows.current_start == windows.last - 59 * 60
    assert windows.previous_start == windows.current_start - 60 * 60


def test_a_window_that_is_not_whole_buckets_is_rounded_up():
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    windows = windows_at(now, window_minutes=7, bucket_seconds=300)
    assert windows.current_start == windows.last - 5 * 60


def test_cover_reads_whole_blocks_inside_and_buckets_at_the_ragged_ends():
    minute = 60
    block = 600
    first, end = 1_000_000_200 + 3 * minute, 1_000_000_200 + 47 * minute  # not on blocks
    spans = cover(first, end, bucket_seconds=minute)
    assert [span.seconds for span in spans] == [minute, block, minute]
    assert spans[0].first == first and spans[-1].end == end
    assert spans[0].end == spans[1].first and spans[1].end == spans[2].first
    assert spans[1].first % block == 0 and spans[1].end % block == 0


def test_cover_of_a_span_shorter_than_a_block_is_buckets_only():
    assert cover(1_000_000_260, 1_000_000_620, bucket_seconds=60) == [Span(60, 1_000_000_260, 1_000_000_620)]


def test_the_windows_spans_tile_both_windows_without_gap_or_overlap():
    for second in range(0, 1800, 37):
        now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC) + timedelta(seconds=second)
        windows = windows_at(now, window_minutes=60, bucket_seconds=60)
        spans = windows.spans()
        assert spans[0].first == windows.previous_start
        assert spans[-1].end == windows.last + 60
        assert all(a.end == b.first for a, b in zip(spans, spans[1:], strict=False))
        assert all(s.end <= windows.current_start or s.first >= windows.current_start for s in spans)
