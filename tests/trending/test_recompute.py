"""Recompute: figures from the counters, snapshots, broadcast on change, pruning."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from trending import ranking, services
from trending.models import Topic, TopicBucket, TopicSpelling, TrendingSnapshot
from trending.windows import windows_at

from .conftest import NOW, minutes_ago

pytestmark = pytest.mark.django_db


def topics_at(now=NOW, **options):
    return {t["topic"]: t for t in services.trending_refresh(now=now, **options).snapshot.topics}


def test_figures_of_a_topic_over_the_window(post, like):
    for minutes in (1, 10, 50):
        like(post("#AI", at=minutes_ago(minutes)), at=NOW, count=5)
    post("#AI", at=minutes_ago(70))  # previous window
    assert topics_at()["AI"] == {
        "topic": "AI",
        "tweet_count": 3,
        "engagement_score": 5.0,  # 15 engagements / 3 tweets = 5 per tweet
        "growth_rate": 2.0,  # 3 now against 1 before
    }


def test_the_window_slides_by_whole_buckets(post, settings):
    settings.TRENDING_MIN_TWEETS = 1
    post("#Edge", at=minutes_ago(59.5))  # 12:01:00, the oldest bucket still in
    post("#Edge", at=minutes_ago(60.1))  # 11:00:24, a bucket now in the previous window
    post("#Edge", at=NOW)
    assert topics_at(now=NOW)["Edge"]["tweet_count"] == 2
    assert topics_at(now=NOW + timedelta(seconds=30))["Edge"]["tweet_count"] == 1


@pytest.mark.parametrize("offset", [0, 1, 7, 9, 10, 13, 59, 61])
def test_figures_match_a_count_of_the_tweets_wherever_the_window_edges_fall(post, like, settings, offset):
    settings.TRENDING_MIN_TWEETS = 1
    posted = []
    for minute in range(0, 150, 3):  # every 3 minutes for 2.5 hours, some liked later
        at = minutes_ago(minute + 0.2)
        tweet = post("#Pulse", at=at)
        posted.append(at)
        if minute % 9 == 0:
            like(tweet, at=minutes_ago(minute / 2), count=1)
    now = NOW - timedelta(minutes=offset)
    windows = windows_at(now, window_minutes=60, bucket_seconds=60)
    current = [at for at in posted if windows.current_start <= at.timestamp() < windows.last + 60]
    previous = [at for at in posted if windows.previous_start <= at.timestamp() < windows.current_start]
    [snapshot_topic] = services.trending_refresh(now=now).snapshot.topics
    assert snapshot_topic["tweet_count"] == len(current)
    assert snapshot_topic["growth_rate"] == ranking.growth_rate(current=len(current), previous=len(previous))
    likes = [minutes_ago(minute / 2).timestamp() for minute in range(0, 150, 3) if minute % 9 == 0]
    in_window = [t for t in likes if windows.current_start <= t < windows.last + 60]
    assert snapshot_topic["engagement_score"] == ranking.engagement_score(
        engagements=len(in_window), tweets=len(current)
    )


def test_a_new_topic_grows_by_its_count_and_a_fading_one_shrinks(post):
    for _ in range(4):
        post("#Fresh", at=minutes_ago(5))
    for _ in range(8):
        post("#Fading", at=minutes_ago(90))
    for _ in range(2):
        post("#Fading", at=minutes_ago(5))
    figures = topics_at()
    assert figures["Fresh"]["growth_rate"] == 4.0
    assert figures["Fading"]["growth_rate"] == -0.75


def test_a_topic_that_faded_out_leaves_the_list(post):
    for _ in range(5):
        post("#Gone", at=minutes_ago(90))
    post("#Gone", at=minutes_ago(5))
    assert "Gone" not in topics_at()


def test_one_tweet_with_a_burst_of_likes_does_not_trend(post, like):
    like(post("#Viral", at=minutes_ago(3)), at=NOW, count=50)
    post("#Quiet", at=minutes_ago(3))
    post("#Quiet", at=minutes_ago(2))
    assert list(topics_at()) == ["Quiet"]


def test_the_most_used_spelling_is_shown_for_all_spellings_together(post):
    post("#ai", at=minutes_ago(3))
    post("#AI", at=minutes_ago(3))
    post("talk", topics=["AI"], at=minutes_ago(2))
    post("#Ai", at=minutes_ago(1))
    figures = topics_at()
    assert list(figures) == ["AI"]
    assert figures["AI"]["tweet_count"] == 4


def test_ranking_and_limit(post):
    for _ in range(6):
        post("#Rising", at=minutes_ago(5))
    for _ in range(10):
        post("#Steady", at=minutes_ago(5))
        post("#Steady", at=minutes_ago(65))
    for _ in range(2):
        post("#Small", at=minutes_ago(5))
    snapshot = services.trending_refresh(now=NOW, limit=2).snapshot
    assert [t["topic"] for t in snapshot.topics] == ["Rising", "Steady"]
    assert [d["key"] for d in snapshot.details] == ["rising", "steady"]
    assert snapshot.details[0]["rank_score"] > snapshot.details[1]["rank_score"]


def test_window_option_widens_both_windows(post):
    post("#Slow", at=minutes_ago(100))
    post("#Slow", at=minutes_ago(150))
    assert "Slow" not in topics_at()
    assert topics_at(window_minutes=180)["Slow"]["tweet_count"] == 2


def test_recompute_reads_the_counters_only_and_costs_the_same_for_more_tweets(post):
    def recompute_queries():
        with CaptureQueriesContext(connection) as queries:
            services.trending_refresh(now=NOW)
        return [q["sql"] for q in queries]

    for _ in range(3):
        post("#AI #Rust", at=minutes_ago(5))
    few = recompute_queries()
    for minutes in range(60):
        post("#AI #Rust", at=minutes_ago(minutes))
    many = recompute_queries()
    assert len(many) == len(few)
    assert not [sql for sql in many if "feed_tweet" in sql or "engagement_engagement" in sql]


def test_each_recompute_stores_a_snapshot_and_the_api_serves_the_latest(post, api_for):
    post("#AI", at=minutes_ago(2))
    post("#AI", at=minutes_ago(1))
    services.trending_refresh(now=NOW)
    services.trending_refresh(now=NOW + timedelta(seconds=5))
    assert TrendingSnapshot.objects.count() == 2
    answer = api_for().get("/api/trending/")
    assert answer.status_code == 200
    assert answer.json() == {
        "topics": [{"topic": "AI", "tweet_count": 2, "engagement_score": 0.0, "growth_rate": 2.0}],
        "count": 1,
    }


def test_a_change_is_broadcast_after_commit_and_an_unchanged_result_is_not(
    post, sent, django_capture_on_commit_callbacks
):
    post("#AI", at=minutes_ago(2))
    post("#AI", at=minutes_ago(1))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.trending_refresh(now=NOW)
        again = services.trending_refresh(now=NOW + timedelta(seconds=10))
    assert (first.changed, first.broadcast) == (True, True)
    assert (again.changed, again.broadcast) == (False, False)
    assert sent.trending() == [{"topics": first.snapshot.topics, "count": 1}]
    assert again.snapshot.broadcast_at is None


def test_a_changed_figure_is_a_change(post, like, sent, django_capture_on_commit_callbacks):
    tweet = post("#AI", at=minutes_ago(2))
    post("#AI", at=minutes_ago(1))
    with django_capture_on_commit_callbacks(execute=True):
        services.trending_refresh(now=NOW)
        like(tweet, at=NOW)
        refresh = services.trending_refresh(now=NOW + timedelta(seconds=10))
    assert refresh.broadcast
    assert [data["topics"][0]["engagement_score"] for data in sent.trending()] == [0.0, 0.9]


def test_at_most_one_broadcast_per_interval_and_the_held_change_goes_out_next(
    post, sent, django_capture_on_commit_callbacks
):
    interval = timedelta(seconds=60)
    post("#AI", at=minutes_ago(3))
    post("#AI", at=minutes_ago(3))
    with django_capture_on_commit_callbacks(execute=True):
        services.trending_refresh(now=NOW, min_interval=interval)
        for _ in range(3):
            post("#Rust", at=NOW)
        held = services.trending_refresh(now=NOW + timedelta(seconds=20), min_interval=interval)
        due = services.trending_refresh(now=NOW + timedelta(seconds=60), min_interval=interval)
        quiet = services.trending_refresh(now=NOW + timedelta(seconds=120), min_interval=interval)
    assert (held.changed, held.broadcast) == (True, False)
    assert (due.changed, due.broadcast) == (True, True)
    assert (quiet.changed, quiet.broadcast) == (False, False)
    assert [[t["topic"] for t in data["topics"]] for data in sent.trending()] == [
        ["AI"],
        ["Rust", "AI"],
    ]


def test_a_refresh_that_is_not_allowed_to_broadcast_leaves_it_to_the_next(
    post, sent, django_capture_on_commit_callbacks
):
    post("#AI", at=minutes_ago(2))
    post("#AI", at=minutes_ago(1))
    with django_capture_on_commit_callbacks(execute=True):
        stored = services.trending_refresh(now=NOW, broadcast=False)
        server = services.trending_refresh(now=NOW + timedelta(seconds=5))
    assert (stored.changed, stored.broadcast) == (True, False)
    assert (server.changed, server.broadcast) == (True, True)
    assert len(sent.trending()) == 1


def test_a_rolled_back_refresh_stores_and_sends_nothing(post, sent, django_capture_on_commit_callbacks):
    post("#AI", at=minutes_ago(2))
    post("#AI", at=minutes_ago(1))
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.trending_refresh(now=NOW)
            raise RuntimeError("interrupted")
    assert not TrendingSnapshot.objects.exists()
    assert sent.trending() == []


def test_prune_drops_old_counters_idle_topics_and_snapshots(post, settings):
    settings.TRENDING_RETENTION_HOURS = 3
    post("#Ancient", at=NOW - timedelta(hours=5))
    post("#AI", at=NOW - timedelta(hours=4))
    post("#AI", at=NOW - timedelta(hours=4))
    post("#AI", at=minutes_ago(1))
    sent_long_ago = services.trending_refresh(now=NOW - timedelta(hours=4))
    services.trending_refresh(now=NOW - timedelta(hours=3, minutes=30))
    refresh = services.trending_refresh(now=NOW, broadcast=False)
    assert sent_long_ago.broadcast
    assert refresh.pruned == 4  # a minute bucket and a ten-minute block each
    assert set(TopicBucket.objects.values_list("topic__key", flat=True)) == {"ai"}
    assert list(Topic.objects.values_list("key", flat=True)) == ["ai"]
    assert list(TopicSpelling.objects.values_list("spelling", flat=True)) == ["AI"]
    # Old snapshots go, but not the last broadcast one: it is what "changed" means.
    assert set(TrendingSnapshot.objects.values_list("pk", flat=True)) == {
        sent_long_ago.snapshot.pk,
        refresh.snapshot.pk,
    }


def test_prune_keeps_two_windows_even_with_a_shorter_retention(post, settings):
    settings.TRENDING_RETENTION_HOURS = 0.5
    post("#Slow", at=minutes_ago(100))
    post("#Slow", at=minutes_ago(10))
    services.trending_refresh(now=NOW)
    assert TopicBucket.objects.filter(span=60).count() == 2


def test_a_topic_counted_again_after_the_prune_starts_afresh(post):
    post("#AI", at=NOW - timedelta(hours=30))
    services.trending_prune(now=NOW)
    assert not Topic.objects.exists()
    post("#AI", at=minutes_ago(1))
    post("#ai", at=minutes_ago(1))
    assert topics_at()["AI"]["tweet_count"] == 2
