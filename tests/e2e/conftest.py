"""Live servers for the end-to-end tests: real Daphne processes on real sockets.

`live_server` runs alone with the in-memory channel layer; `live_server_redis`
shares a private redis-server with any other process given its environment
(a management command, a second Daphne). Each has its own fresh SQLite file.
When a test fails, the tail of the logs of the servers it used is attached to
its report.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import REPO_ROOT, LiveServer, http_request

BIN_DIR = Path(sys.executable).parent
STARTUP_TIMEOUT = 20.0
# Settings the servers must take at their documented defaults, whatever the
# shell running the tests has exported.
SCRUBBED_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "DEBUG",
    "SECRET_KEY",
    "REALTIME_ENGAGEMENT_COALESCE_SECONDS",
    "TRENDING_WINDOW_MINUTES",
    "TRENDING_LIMIT",
    "TRENDING_MIN_TWEETS",
    "TRENDING_RECOMPUTE_SECONDS",
    "TRENDING_RECOMPUTE_IN_SERVER",
    "API_WRITE_RATE",
    "REALTIME_MAX_CONNECTIONS_PER_USER",
    "REALTIME_MESSAGES_PER_SECOND",
    "REALTIME_MESSAGES_BURST",
    "REALTIME_MAX_MESSAGE_BYTES",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(workdir: Path, *, redis_url: str | None = None) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED_ENV}
    env.update(
        DJANGO_SETTINGS_MODULE="realtime_project.settings",
        DATABASE_URL=f"sqlite:///{workdir / 'e2e.sqlite3'}",
        # Short, so typing expiry is testable without long waits.
        REALTIME_TYPING_TIMEOUT_SECONDS="1",
        # Every test registers its own users, all from 127.0.0.1: the
        # per-address sign-up limit would stop the suite, not an attacker.
        API_CREDENTIALS_RATE="100000/minute",
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def migrate(env: dict, log_path: Path) -> None:
    with open(log_path, "ab") as log:
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=120,
        )
    if result.returncode != 0:
        pytest.fail(f"migrate failed:\n{log_path.read_text(errors='replace')[-4000:]}")


def start_daphne(name: str, env: dict, log_path: Path) -> LiveServer:
    """Start Daphne on a free port and wait until it answers GET /ws/stats."""
    for _attempt in range(3):
        port = free_port()
        log = open(log_path, "ab")
        process = subprocess.Popen(
            [
                str(BIN_DIR / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "realtime_project.asgi:application",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        server = LiveServer(name=name, process=process, port=port, env=env, log_path=log_path)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(OSError):
                if http_request(server.http_url + "/ws/stats", timeout=2)[0] == 200:
                    return server
            time.sleep(0.1)
        if process.poll() is None:
            stop_process(process)
            pytest.fail(f"{name} did not answer within {STARTUP_TIMEOUT} s:\n{server.log_tail()}")
        if "Address already in use" not in server.log_tail():
            pytest.fail(f"{name} exited with {process.returncode}:\n{server.log_tail()}")
        # Another process took the port between free_port() and bind: retry.
    pytest.fail(f"{name} could not bind a port:\n{server.log_tail()}")


def stop_process(process) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def running_server(name: str, env: dict, log_path: Path, *, migrate_first: bool = True):
    if migrate_first:
        migrate(env, log_path)
    server = start_daphne(name, env, log_path)
    try:
        yield server
    finally:
        died = server.process.poll()
        stop_process(server.process)
    if died is not None:
        pytest.fail(f"{name} died during the tests (exit {died}):\n{server.log_tail()}")


@contextlib.contextmanager
def running_redis(workdir: Path):
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        pytest.skip("redis-server is not installed")
    port = free_port()
    log_path = workdir / "redis.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not redis_answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(process)


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """One Daphne with the in-memory channel layer and a fresh database."""
    workdir = tmp_path_factory.mktemp("live_server")
    with running_server("live_server", server_env(workdir), workdir / "daphne.log") as server:
        yield server


@pytest.fixture(autouse=True)
def _live_server_helper():
    """Replace pytest-django's autouse helper of this name for the e2e tests.

    Ours is not pytest-django's `live_server`: the helper would create a test
    database for every test that uses one, and then fail on our server object.
    These tests reach the database only through the live server.
    """
    yield


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def live_server_redis(tmp_path_factory, redis_url):
    """One Daphne on a private Redis channel layer; `server.manage(...)` and
    other processes given `server.env` share its database and Redis."""
    workdir = tmp_path_factory.mktemp("live_server_redis")
    env = server_env(workdir, redis_url=redis_url)
    with running_server("live_server_redis", env, workdir / "daphne.log") as server:
        yield server


@pytest.fixture(scope="module")
def second_server_redis(live_server_redis):
    """Another Daphne process sharing live_server_redis's database and Redis."""
    log_path = live_server_redis.log_path.with_name("daphne-second.log")
    with running_server(
        "second_server_redis", live_server_redis.env, log_path, migrate_first=False
    ) as server:
        yield server


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and call.when in ("setup", "call"):
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, LiveServer):
                report.sections.append((f"{value.name} log (tail)", value.log_tail()))
    return report
