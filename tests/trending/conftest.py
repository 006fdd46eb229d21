"""Fixtures of the trending tests: a fixed clock, tweets and likes at chosen
times, and a recorder of what reaches the channel layer."""

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from engagement.models import Engagement
from feed.models import Tweet
from feed.parsing import tweet_topics
from realtime_project.realtime.events import broadcast
from trending import groups

# A fixed "now", 30 s into a minute bucket.
NOW = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)


def minutes_ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def trending_settings(settings):
    """The defaults the tests are written against, whatever the environment says."""
    settings.TRENDING_WINDOW_MINUTES = 60
    settings.TRENDING_LIMIT = 10
    settings.TRENDING_BUCKET_SECONDS = 60
    settings.TRENDING_MIN_TWEETS = 2
    settings.TRENDING_RETENTION_HOURS = 24
    settings.TRENDING_RECOMPUTE_SECONDS = 60
    settings.TRENDING_RECOMPUTE_IN_SERVER = True
    return settings


class Sent:
    """What was handed to the channel layer, as decoded envelopes."""

    def __init__(self):
        self.frames: list[tuple[str, dict]] = []

    def record(self, groups, message):
        frame = json.loads(message["text"])
        self.frames.extend((group, frame) for group in groups)

    def trending(self) -> list[dict]:
        """The `data` of every `trending` message sent to the trending group."""
        return [
            frame["data"]
            for group, frame in self.frames
            if frame["type"] == "trending" and group == groups.everyone()
        ]


@pytest.fixture
def sent(monkeypatch):
    recorder = Sent()
    monkeypatch.setattr(broadcast, "send_to_groups", recorder.record)
    return recorder


_usernames = itertools.count(1)


@pytest.fixture
def person(db):
    """Make a new user (local, so these tests depend on no shared fixture)."""

    def make():
        return get_user_model().objects.create_user(username=f"trend{next(_usernames)}")

    return make


@pytest.fixture
def author(person):
    return person()


@pytest.fixture
def post(author):
    """Save a tweet by `author` (or another user) at `at`, as the API would."""

    def make(content: str, *, at: datetime, topics=None, user=None, reply_to=None) -> Tweet:
        return Tweet.objects.create(
            author=user or author,
            content=content,
            topics=tweet_topics(content, topics),
            created_at=at,
            reply_to=reply_to,
        )

    return make


@pytest.fixture
def like(person):
    """Have `count` fresh users like `tweet` at `at`."""

    def make(tweet: Tweet, *, at: datetime, count: int = 1, kind=Engagement.Kind.LIKE):
        for _ in range(count):
            Engagement.objects.create(user=person(), tweet=tweet, kind=kind, created_at=at)

    return make
