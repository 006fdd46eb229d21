"""manage.py recompute_trending: one-off and loop, in-memory and shared channel layers."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from trending.management.commands import recompute_trending
from trending.models import TrendingSnapshot

from .conftest import NOW, minutes_ago

pytestmark = pytest.mark.django_db


class SharedLayer:
    """Stands for channels-redis: what every process can reach."""


@pytest.fixture
def shared_layer(monkeypatch):
    monkeypatch.setattr(recompute_trending, "get_channel_layer", lambda: SharedLayer())


@pytest.fixture
def clock(monkeypatch):
    """The command's clock starts at NOW; each sleep moves it on, without sleeping."""
    state = {"now": NOW}
    monkeypatch.setattr("trending.services.recompute.timezone.now", lambda: state["now"])

    def sleep(seconds):
        state["now"] += timedelta(seconds=seconds)
        for hook in state.get("on_sleep", []):
            hook(state["now"])

    monkeypatch.setattr(recompute_trending.time, "sleep", sleep)
    return state


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("recompute_trending", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_one_off_prints_the_ranking_and_broadcasts_a_change(
    post, like, sent, shared_layer, clock, django_capture_on_commit_callbacks
):
    like(post("#AI", at=minutes_ago(3)), at=NOW, count=10)
    post("#AI", at=minutes_ago(2))
    with django_capture_on_commit_callbacks(execute=True):
        out, err = run()
    assert out.splitlines() == [
        " 1. AI                       tweets=2      engagement=5.0  growth=+2.0",
        "Changed: stored and broadcast.",
    ]
    assert err == ""
    assert len(sent.trending()) == 1


def test_one_off_run_again_unchanged_stores_but_does_not_broadcast(
    post, sent, shared_layer, clock, django_capture_on_commit_callbacks
):
    post("#AI", at=minutes_ago(3))
    post("#AI", at=minutes_ago(2))
    with django_capture_on_commit_callbacks(execute=True):
        run()
        out, _ = run()
    assert out.splitlines()[-1] == "Unchanged since the last broadcast: stored, nothing broadcast."
    assert TrendingSnapshot.objects.count() == 2
    assert len(sent.trending()) == 1


def test_with_the_in_memory_layer_it_says_it_cannot_reach_the_server(
    post, sent, clock, django_capture_on_commit_callbacks
):
    post("#AI", at=minutes_ago(3))
    post("#AI", at=minutes_ago(2))
    with django_capture_on_commit_callbacks(execute=True):
        out, err = run("--window", "30", "--limit", "5")
    assert "in-memory" in err and "cannot reach the server's WebSocket clients" in err
    assert out.splitlines()[-1] == "Changed: stored, not broadcast from this process (see above)."
    assert sent.trending() == []
    snapshot = TrendingSnapshot.objects.get()
    assert (snapshot.window_minutes, snapshot.broadcast_at) == (30, None)


def test_nothing_trending_is_said_plainly(shared_layer, clock):
    out, _ = run()
    assert out.splitlines()[0] == "Nothing trending."


@pytest.mark.parametrize("args", [["--window", "0"], ["--limit", "-1"], ["--loop", "--interval", "0"]])
def test_bad_options_are_refused(args):
    with pytest.raises(CommandError):
        run(*args)


def test_loop_broadcasts_only_changes_and_at_most_once_per_interval(
    post, sent, shared_layer, clock, django_capture_on_commit_callbacks
):
    post("#AI", at=minutes_ago(3))
    post("#AI", at=minutes_ago(2))

    def activity(now):
        # New tweets land after the 2nd recompute only: the 3rd sees a change.
        if now == NOW + timedelta(seconds=20):
            post("#Rust", at=now)
            post("#Rust", at=now)

    clock["on_sleep"] = [activity]
    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run("--loop", "--interval", "10", "--iterations", "4")
    statuses = [line.split(", ")[-1] for line in out.splitlines()[1:]]
    assert out.splitlines()[0] == "Recomputing every 10s; Ctrl-C stops."
    assert statuses == ["broadcast", "unchanged", "broadcast", "unchanged"]
    assert [len(data["topics"]) for data in sent.trending()] == [1, 2]
    assert TrendingSnapshot.objects.count() == 4


def test_loop_holds_a_change_that_comes_too_soon_after_a_one_off_broadcast(
    post, sent, shared_layer, clock, django_capture_on_commit_callbacks
):
    post("#AI", at=minutes_ago(3))
    post("#AI", at=minutes_ago(2))
    with django_capture_on_commit_callbacks(execute=True):
        run()  # an operator's one-off at NOW
        post("#Rust", at=NOW)
        post("#Rust", at=NOW)
        clock["now"] = NOW + timedelta(seconds=30)
        out, _ = run("--loop", "--interval", "60", "--iterations", "2")
    statuses = [line.split(", ")[-1] for line in out.splitlines()[1:]]
    assert statuses == ["changed", "broadcast"]
    assert [len(data["topics"]) for data in sent.trending()] == [1, 2]
