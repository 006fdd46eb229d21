"""Live servers for the end-to-end tests: real Daphne processes on real sockets.

`live_server` runs alone with the in-memory channel layer; `live_server_redis`
shares a private redis-server with any other process given its environment
(a management command, a second Daphne). Each has its own fresh SQLite file.

The production layout (deploy/README.md) has its own fixtures: `cluster` is
two Daphne processes on a fresh PostgreSQL database and a private
redis-server that a test may stop and start; `disposable_cluster` is the
same for one test that breaks it (kills Redis); `nginx_front` is Debian's
nginx, configured by deploy/render_nginx.py, in front of `cluster`.

When a test fails, the tail of the logs of the servers it used is attached to
its report.
"""

import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from .helpers import REPO_ROOT, LiveServer, http_request, run_manage

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
    "REALTIME_TYPING_CHANGES_PER_SECOND",
    "HTTPS",
    "TRUSTED_PROXIES",
    "METRICS_ALLOWED_NETWORKS",
    "METRICS_TOKEN",
    "REALTIME_MAX_SOCKETS_PER_ADDRESS",
    "REALTIME_HANDSHAKES_PER_SECOND",
    "REALTIME_HANDSHAKES_BURST",
    "REALTIME_ADMISSIONS_PER_SECOND",
    "REALTIME_ADMISSIONS_BURST",
    "REALTIME_ADMISSION_MAX_WAIT_SECONDS",
    "REALTIME_DESCRIPTOR_RESERVE",
    "REALTIME_HEADER_TIMEOUT_SECONDS",
    "REALTIME_MAX_REQUEST_BYTES",
)
# The per-address limits that the suite's own clients, all on 127.0.0.1,
# would hit long before an attacker does. Tests of those limits start
# servers of their own with `limited_env`.
SUITE_WIDE_LIMITS = {
    # Every test registers its own users: the sign-up limit would stop the suite.
    "API_CREDENTIALS_RATE": "100000/minute",
    "REALTIME_MAX_SOCKETS_PER_ADDRESS": "100000",
    "REALTIME_HANDSHAKES_PER_SECOND": "100000",
    "REALTIME_HANDSHAKES_BURST": "100000",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(workdir: Path, *, redis_url: str | None = None) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED_ENV}
    env.update(
        DJANGO_SETTINGS_MODULE="realtime_project.settings",
        DATABASE_URL=f"sqlite:///{workdir / 'e2e.sqlite3'}",
        # DEBUG is off, as in production: a key of the test's own.
        SECRET_KEY="e2e-only-key-" + uuid.uuid4().hex,
        # Short, so typing expiry is testable without long waits.
        REALTIME_TYPING_TIMEOUT_SECONDS="1",
        # A stopping server drains its sockets over this window: short, so
        # that stopping one in a test takes seconds (tests of the drain
        # itself set their own).
        REALTIME_DRAIN_SECONDS="2",
        PYTHONUNBUFFERED="1",
        **SUITE_WIDE_LIMITS,
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def limited_env(env: dict) -> dict:
    """`env` with the per-address limits at their defaults (settings.py)."""
    return {key: value for key, value in env.items() if key not in SUITE_WIDE_LIMITS}


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


def start_daphne(
    name: str,
    env: dict,
    log_path: Path,
    *,
    extra_args: tuple[str, ...] = (),
    nofile: tuple[int, int] | None = None,
) -> LiveServer:
    """Start Daphne on a free port and wait until it answers GET /healthz.
    `nofile`: its (soft, hard) descriptor limit."""

    def limit_descriptors():
        resource.setrlimit(resource.RLIMIT_NOFILE, nofile)

    for _attempt in range(3):
        port = free_port()
        log = open(log_path, "ab")
        process = subprocess.Popen(
            [
                str(BIN_DIR / "python"),
                "-m",
                "realtime_project.realtime.server",
                *extra_args,
                # As `make run` and deploy/daphne@.service start it.
                "-e",
                f"tcp:port={port}:interface=127.0.0.1:backlog=1024",
                "realtime_project.asgi:application",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=limit_descriptors if nofile else None,
        )
        log.close()
        server = LiveServer(name=name, process=process, port=port, env=env, log_path=log_path)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(OSError):
                if http_request(server.http_url + "/healthz", timeout=2)[0] == 200:
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
def running_server(name: str, env: dict, log_path: Path, *, migrate_first: bool = True, **start_options):
    """A Daphne for the duration of the block (see start_daphne's options)."""
    if migrate_first:
        migrate(env, log_path)
    server = start_daphne(name, env, log_path, **start_options)
    try:
        yield server
    finally:
        died = server.process.poll()
        stop_process(server.process)
    if died is not None:
        pytest.fail(f"{name} died during the tests (exit {died}):\n{server.log_tail()}")


class RedisServer:
    """A private redis-server on a port of its own, which a test may stop and
    start again on the same port (a Redis restart, as clients see it)."""

    def __init__(self, workdir: Path):
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(self.binary).exists():
            pytest.fail("redis-server is not installed (Debian package redis-server; make system-deps)")
        self.workdir = workdir
        self.log_path = workdir / "redis.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        return redis_answers(self.port)

    def start(self) -> None:
        """Start on `self.port` and return once it answers PING."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
                + ["--save", "", "--appendonly", "no"],
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                stop_process(self.process)
                pytest.fail(
                    f"redis-server did not start on port {self.port}:\n"
                    + self.log_path.read_text(errors="replace")[-4000:]
                )
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop it (SIGTERM; nothing is saved) and return once the port is closed."""
        if self.process is not None:
            stop_process(self.process)
            self.process = None


@contextlib.contextmanager
def running_redis(workdir: Path):
    redis = RedisServer(workdir)
    redis.start()
    try:
        yield redis.url
    finally:
        redis.stop()


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


# --- The production layout: PostgreSQL, Redis, several Daphne, nginx ---------

# Where the fresh test database is created: this machine's PostgreSQL
# (trust auth for postgres on loopback), or the server TEST_DATABASE_URL names.
POSTGRES_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def postgres_server_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or POSTGRES_SERVER_URL


def _admin_connection(server_url: str):
    import psycopg

    parts = urlsplit(server_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        return psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is not reachable at {parts.hostname}:{parts.port}: {error}")


@contextlib.contextmanager
def fresh_postgres_database(workdir: Path):
    """A new, migrated PostgreSQL database for this session; dropped at the end."""
    server_url = postgres_server_url()
    name = f"realtime_e2e_{uuid.uuid4().hex[:10]}"
    with _admin_connection(server_url) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    try:
        env = {**server_env(workdir), "DATABASE_URL": url}
        migrate(env, workdir / "migrate.log")
        yield url
    finally:
        with _admin_connection(server_url) as admin:
            # FORCE: a Daphne killed by a test may have left a session behind.
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Cluster:
    """Daphne processes sharing one PostgreSQL database and one private
    redis-server, started as deploy/daphne@.service starts them."""

    def __init__(self, *, name: str, workdir: Path, database_url: str, redis: RedisServer):
        self.name = name
        self.workdir = workdir
        self.redis = redis
        self.env = server_env(workdir, redis_url=redis.url)
        self.env.update(
            DATABASE_URL=database_url,
            # Many actions per user in a few seconds (the Redis outage test);
            # the write limit has its own tests against `live_server`.
            API_WRITE_RATE="100000/minute",
            # Trending broadcasts come from `manage.py recompute_trending`
            # only, so a test can tell that the command reached the clients.
            TRENDING_RECOMPUTE_IN_SERVER="0",
            # nginx in front (nginx_front) connects from here, as in deploy/.
            TRUSTED_PROXIES="127.0.0.1",
        )
        # The live ones; a killed server leaves this list for `killed`.
        self.servers: list[LiveServer] = []
        self.killed: list[LiveServer] = []

    def start_server(self, name: str) -> LiveServer:
        """Start one more Daphne process on this cluster's database and Redis."""
        log_path = self.workdir / f"daphne-{name}.log"
        server = start_daphne(name, self.env, log_path)
        self.servers.append(server)
        return server

    def kill(self, server: LiveServer) -> None:
        """kill -9 `server`: no shutdown code runs, its Redis keys stay behind."""
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        self.servers.remove(server)
        self.killed.append(server)

    def manage(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run `manage.py <args>` as a third process on this cluster."""
        return run_manage(self.env, *args, timeout=timeout)

    def stop(self) -> list[str]:
        """Stop every server; return a report of those that died unasked."""
        died = []
        for server in self.servers:
            code = server.process.poll()
            if code is not None:
                died.append(f"{server.name} died during the tests (exit {code}):\n{server.log_tail()}")
            stop_process(server.process)
        return died


@contextlib.contextmanager
def running_cluster(name: str, workdir: Path, database_url: str, *, servers: int = 2):
    redis = RedisServer(workdir)
    redis.start()
    cluster = Cluster(name=name, workdir=workdir, database_url=database_url, redis=redis)
    died = []
    try:
        for number in range(1, servers + 1):
            cluster.start_server(f"{name}-{number}")
        yield cluster
    finally:
        died = cluster.stop()
        redis.stop()
    if died:
        pytest.fail("\n".join(died))


@pytest.fixture(scope="session")
def postgres_database(tmp_path_factory):
    """The URL of a fresh, migrated PostgreSQL database, dropped after the session."""
    with fresh_postgres_database(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, postgres_database):
    """Two Daphne processes (`cluster.servers`) on PostgreSQL and a private
    Redis: the production layout. Tests must leave it as they found it."""
    with running_cluster("cluster", tmp_path_factory.mktemp("cluster"), postgres_database) as c:
        yield c


@pytest.fixture
def disposable_cluster(tmp_path_factory, postgres_database):
    """Like `cluster`, with a Redis and two Daphne processes of its own, for
    one test that breaks them (stops Redis, kills a process)."""
    workdir = tmp_path_factory.mktemp("disposable_cluster")
    with running_cluster("disposable", workdir, postgres_database) as c:
        yield c


class NginxFront(LiveServer):
    """nginx in front of a cluster: talk to it like to any live server."""

    def __init__(self, *, prefix: Path, config_path: Path, **kwargs):
        super().__init__(**kwargs)
        self.prefix = prefix
        self.config_path = config_path
        self.access_log_path = prefix / "access.log"
        self.error_log_path = prefix / "error.log"

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for path in (self.error_log_path, self.access_log_path, self.log_path):
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            parts.append(f"--- {path.name}\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(parts) or "(no log)"


def nginx_binary() -> str:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail("nginx is not installed (Debian package nginx; make system-deps)")
    return binary


def render_nginx(*args: str) -> str:
    """Run deploy/render_nginx.py as an operator would; return what it prints."""
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "deploy" / "render_nginx.py"), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def start_nginx(config_path: Path, prefix: Path, port: int, env: dict) -> NginxFront | None:
    """Start nginx as the test's own process; None if its port was taken."""
    base = [nginx_binary(), "-c", str(config_path), "-p", str(prefix)]
    checked = subprocess.run(base + ["-t"], capture_output=True, text=True, timeout=30)
    if checked.returncode != 0:
        pytest.fail(f"nginx -t refused {config_path}:\n{checked.stderr}")
    log_path = prefix / "nginx.out"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(base + ["-g", "daemon off;"], stdout=log, stderr=subprocess.STDOUT)
    front = NginxFront(
        name="nginx",
        process=process,
        port=port,
        env=env,
        log_path=log_path,
        prefix=prefix,
        config_path=config_path,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError):
            if http_request(front.http_url + "/healthz", timeout=2)[0] == 200:
                return front
        time.sleep(0.05)
    stop_process(process)
    if "Address already in use" in front.log_tail():
        return None
    pytest.fail(f"nginx did not answer within {STARTUP_TIMEOUT} s:\n{front.log_tail()}")


@contextlib.contextmanager
def running_nginx(
    upstreams: list[LiveServer],
    prefix: Path,
    env: dict,
    *,
    config: Path | None = None,
    port: int = 0,
):
    """nginx in front of `upstreams`: with deploy/render_nginx.py's whole
    configuration, or with `config` (listening on `port`)."""
    front = None
    for _attempt in range(3):
        if config is None:
            port = free_port()
            config_path = prefix / "nginx.conf"
            upstream_args = [arg for s in upstreams for arg in ("--upstream", f"127.0.0.1:{s.port}")]
            config_path.write_text(
                render_nginx("--prefix", str(prefix), "--listen", f"127.0.0.1:{port}", *upstream_args)
            )
        else:
            config_path = config
        front = start_nginx(config_path, prefix, port, env)
        if front is not None or config is not None:
            break
    if front is None:
        pytest.fail(f"nginx could not bind port {port}")
    try:
        yield front
    finally:
        died = front.process.poll()
        # SIGTERM: nginx's fast shutdown, which does not wait for open WebSockets.
        stop_process(front.process)
    if died is not None:
        pytest.fail(f"nginx died during the tests (exit {died}):\n{front.log_tail()}")


@pytest.fixture(scope="session")
def nginx_front(cluster, tmp_path_factory):
    """nginx (deploy/nginx.conf.template) in front of both `cluster` processes."""
    prefix = tmp_path_factory.mktemp("nginx")
    with running_nginx(cluster.servers[:2], prefix, cluster.env) as front:
        yield front


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and call.when in ("setup", "call"):
        for value in getattr(item, "funcargs", {}).values():
            servers = [*value.servers, *value.killed] if isinstance(value, Cluster) else [value]
            for server in servers:
                if isinstance(server, LiveServer):
                    report.sections.append((f"{server.name} log (tail)", server.log_tail()))
    return report
