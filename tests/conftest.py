"""Shared fixtures: users, authenticated API clients, and a recorder of broadcasts."""

import itertools
import json
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from realtime_project.realtime.events import broadcast
from realtime_project.realtime.streams.names import addressed

_usernames = itertools.count(1)

# Fixtures that start or need PostgreSQL (tests/e2e/conftest.py).
POSTGRES_FIXTURES = {"postgres_database", "cluster", "disposable_cluster"}


def pytest_collection_modifyitems(config, items):
    """Mark each test by what it needs, so `-m "not e2e and not browser"`
    (make test-fast) runs the in-process tests alone."""
    for item in items:
        parts = item.path.parts
        if "e2e" in parts:
            item.add_marker(pytest.mark.e2e)
        if "browser" in parts:
            item.add_marker(pytest.mark.browser)
        if POSTGRES_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(autouse=True, scope="session")
def database_connections_closed_after_each_use():
    # The streams' database thread keeps its connection for a minute
    # (realtime/stream_database.py); after the last test PostgreSQL would
    # then refuse to drop the test database. In-process tests close it after
    # each use; tests/e2e's servers keep the default.
    from django.conf import settings

    settings.REALTIME_STREAM_DB_CONN_MAX_AGE = 0


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for attackers, not for the test suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """An empty in-memory channel layer after each test: no group outlives it."""
    yield
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(get_channel_layer().flush)()
    # else: Playwright's loop runs in this thread (browser tests), which use
    # live servers and no in-process layer: nothing to reset.


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # REST throttles count in Django's cache, which outlives a test.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def no_engagement_coalescing(settings):
    # Each update goes out at once; tests of coalescing turn it back on.
    settings.REALTIME_ENGAGEMENT_COALESCE_SECONDS = 0


@pytest.fixture
def make_user(db):
    def make(username: str | None = None, display_name: str = ""):
        username = username or f"user{next(_usernames)}"
        return get_user_model().objects.create_user(
            username=username, password="a-Strong-password-1", first_name=display_name
        )

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice", "Alice Founder")


@pytest.fixture
def bob(make_user):
    return make_user("bob", "Bob Builder")


@pytest.fixture
def carol(make_user):
    return make_user("carol")


@pytest.fixture
def api_for(db):
    """An API client authenticated with `user`'s token."""

    def client(user=None) -> APIClient:
        api = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api

    return client


class BroadcastRecorder:
    """Records every (group, envelope) the toolkit would send into the channel layer."""

    def __init__(self, capture_on_commit):
        self._capture_on_commit = capture_on_commit
        self.sent: list[tuple[str, dict]] = []

    def record(self, groups, message):
        # Each group as the channel layer names its copy (streams/names.py).
        self.sent.extend((group, json.loads(addressed(message, group)["text"])) for group in groups)

    @contextmanager
    def committing(self):
        """Run the block, then the on-commit callbacks it registered (as a commit would)."""
        with self._capture_on_commit(execute=True):
            yield self

    def of_kind(self, kind: str) -> list[tuple[str, dict]]:
        return [(group, frame) for group, frame in self.sent if frame["type"] == kind]

    def to(self, group: str) -> list[dict]:
        return [frame for sent_group, frame in self.sent if sent_group == group]

    def clear(self):
        self.sent.clear()


@pytest.fixture
def broadcasts(monkeypatch, django_capture_on_commit_callbacks):
    """What services broadcast: wrap actions in `with broadcasts.committing():`."""
    recorder = BroadcastRecorder(django_capture_on_commit_callbacks)
    monkeypatch.setattr(broadcast, "send_to_groups", recorder.record)
    return recorder


@pytest.fixture
def online():
    """Mark users as having a connection open to a stream, as consumers do."""
    from realtime_project.realtime.cluster.registry import registry

    opened = []

    def mark(user, stream="feed"):
        registry.opened(stream=stream, user_id=user.pk, per_user=True)
        opened.append((stream, user.pk))

    yield mark
    for stream, user_id in opened:
        registry.closed(stream=stream, user_id=user_id)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server():
    """A private redis-server on a free port: its URL. Killed at the end."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: `make test` installs it"
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.kill()
    process.wait()


@pytest.fixture
def admin_client(client, make_user):
    """Django's test client signed in as a superuser."""
    admin = make_user("root")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    return client
