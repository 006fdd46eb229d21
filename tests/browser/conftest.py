"""The dashboard in a real browser: Debian's headless Chromium, driven by
Playwright's sync API, against a live Daphne on a fresh SQLite database.

The built dashboard (static/dashboard/app.js and app.css, from frontend/)
must exist before Daphne starts, since Django looks for <repo>/static only
at startup: `frontend_build` builds it when it is missing or older than its
sources. Screenshots go to test-artifacts/ (not committed).
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FRONTEND = REPO_ROOT / "frontend"
BUILT = [REPO_ROOT / "static" / "dashboard" / "app.js", REPO_ROOT / "static" / "dashboard" / "app.css"]
ARTIFACTS = REPO_ROOT / "test-artifacts"
BIN_DIR = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT = 20.0
PASSWORD = "Browser-Password-2026!"
# Settings the server must take at their defaults, whatever the shell exported.
SCRUBBED_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "DEBUG",
    "SECRET_KEY",
    "REALTIME_ENGAGEMENT_COALESCE_SECONDS",
    "REALTIME_TYPING_TIMEOUT_SECONDS",
    "REALTIME_MAX_CONNECTIONS_PER_USER",
    "API_WRITE_RATE",
    "HTTPS",
    "TRUSTED_PROXIES",
    "REALTIME_TYPING_CHANGES_PER_SECOND",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, *, token: str | None = None, body: dict | None = None, timeout=10):
    """Return (status, parsed JSON or None) of one request; never raise for HTTP errors."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, None


class Daphne:
    """One Daphne process on a fixed port and database; it can be stopped and started again."""

    def __init__(self, workdir: Path, name: str = "daphne", port: int | None = None):
        self.workdir = workdir
        self.name = name
        self.port = port or free_port()
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
        self.env.update(
            DJANGO_SETTINGS_MODULE="realtime_project.settings",
            DATABASE_URL=f"sqlite:///{workdir / 'browser.sqlite3'}",
            # DEBUG is off, as in production: a key of the suite's own.
            SECRET_KEY="browser-tests-only-" + "k" * 40,
            # Every test signs up its own users from 127.0.0.1: the per-address
            # sign-up limit would stop the suite, not an attacker.
            API_CREDENTIALS_RATE="100000/minute",
            REALTIME_MAX_SOCKETS_PER_ADDRESS="100000",
            REALTIME_HANDSHAKES_PER_SECOND="100000",
            REALTIME_HANDSHAKES_BURST="100000",
            # A stopping server drains its sockets over this window: short,
            # so that a test restarting one waits seconds, not the default.
            REALTIME_DRAIN_SECONDS="2",
            PYTHONUNBUFFERED="1",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def migrate(self) -> None:
        with open(self.log_path, "ab") as log:
            result = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput"],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=180,
            )
        if result.returncode != 0:
            pytest.fail(f"migrate failed:\n{self.log_tail()}")

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [
                        str(BIN_DIR / "python"),
                        "-m",
                        "realtime_project.realtime.server",
                        "-b",
                        "127.0.0.1",
                        "-p",
                        str(self.port),
                        "realtime_project.asgi:application",
                    ],
                    cwd=REPO_ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            while self.process.poll() is None and time.monotonic() < deadline:
                with contextlib.suppress(OSError):
                    if http("GET", self.url + "/ws/stats", timeout=2)[0] == 200:
                        return
                time.sleep(0.1)
            if self.process.poll() is None:
                self.stop()
                pytest.fail(f"{self.name} did not answer within {STARTUP_TIMEOUT} s:\n{self.log_tail()}")
            # A restart can race the old socket's release: try the same port again.
            if "Address already in use" not in self.log_tail() or time.monotonic() > deadline:
                pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            time.sleep(0.3)

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    # --- The REST API, as another client would use it ---

    def api(self, method: str, path: str, *, token: str | None = None, body: dict | None = None):
        return http(method, self.url + path, token=token, body=body)

    def register(self, username: str, display_name: str) -> dict:
        status, data = self.api(
            "POST",
            "/api/auth/register/",
            body={"username": username, "password": PASSWORD, "display_name": display_name},
        )
        assert status == 201, (status, data)
        return data


def sources_newer_than(paths: list[Path]) -> bool:
    if not all(p.exists() for p in paths):
        return True
    built = min(p.stat().st_mtime for p in paths)
    sources = [FRONTEND / "package-lock.json", FRONTEND / "build.mjs"]
    for folder in ("src", "lib"):
        sources.extend((FRONTEND / folder).rglob("*"))
    return any(s.is_file() and s.stat().st_mtime > built for s in sources)


@pytest.fixture(scope="session")
def frontend_build():
    """The built dashboard; built here when missing or stale (`make` normally builds it first)."""
    if sources_newer_than(BUILT):
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(
                "static/dashboard is not built and npm is missing: cd frontend && npm ci && npm run build"
            )
        steps = [] if (FRONTEND / "node_modules").exists() else [[npm, "ci", "--no-audit", "--no-fund"]]
        steps.append([npm, "run", "build"])
        for step in steps:
            result = subprocess.run(step, cwd=FRONTEND, capture_output=True, text=True, timeout=600)
            if result.returncode != 0:
                pytest.fail(f"{' '.join(step)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    assert all(p.exists() for p in BUILT)
    return BUILT


@pytest.fixture(scope="session")
def dashboard_server(tmp_path_factory, frontend_build):
    """A live Daphne serving the dashboard, on a fresh SQLite database."""
    workdir = tmp_path_factory.mktemp("browser")
    server = Daphne(workdir)
    server.migrate()
    server.start()
    yield server
    died = server.process.poll() if server.process else None
    server.stop()
    if died is not None and died != 0 and died != -signal.SIGTERM:
        pytest.fail(f"daphne died during the browser tests (exit {died}):\n{server.log_tail()}")


# Per module, not per session: Playwright's sync API keeps an event loop
# running in the main thread while it is open, which would break every
# asyncio test that runs after the browser tests in the same session.
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


class Pages:
    """Opens browser contexts (one per user) and cleans them up; records page errors."""

    def __init__(self, browser, server: Daphne, test_name: str):
        self.browser = browser
        self.server = server
        self.test_name = test_name
        self.contexts = []
        self.pages = []
        self.errors: list[str] = []

    def open(
        self,
        *,
        user: dict | None = None,
        username: str | None = None,
        viewport=(1280, 860),
        init_script: str | None = None,
    ):
        """A new browser (context) at the dashboard; signed in as `user` (via the API) if given;
        `init_script` runs in the page before its own scripts."""
        context = self.browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        context.set_default_timeout(10_000)
        if init_script:
            context.add_init_script(init_script)
        self.contexts.append(context)
        if user is not None:
            # As the dashboard does: its page sets the CSRF cookie, the
            # sign-in sends it back (login CSRF is refused).
            context.request.get(self.server.url + "/")
            csrf = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
            response = context.request.post(
                self.server.url + "/api/auth/login/",
                data={"username": user["username"], "password": PASSWORD},
                headers={"X-CSRFToken": csrf},
            )
            assert response.status == 200, response.text()
        page = context.new_page()
        page.on(
            "pageerror", lambda error: self.errors.append(f"{username or user and user['username']}: {error}")
        )
        self.pages.append(page)
        page.goto(self.server.url + "/")
        return page

    def screenshot(self, page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        # Finite animations (a popover's fade-in) are skipped to their end state.
        page.screenshot(path=str(path), animations="disabled")
        return path

    def close(self, failed: bool) -> None:
        if failed:
            for index, page in enumerate(self.pages):
                with contextlib.suppress(Exception):
                    self.screenshot(page, f"FAILED-{self.test_name}-{index}")
        for context in self.contexts:
            with contextlib.suppress(Exception):
                context.close()


@pytest.fixture
def pages(request, browser, dashboard_server):
    opened = Pages(browser, dashboard_server, request.node.name)
    yield opened
    call = getattr(request.node, "rep_call", None)
    opened.close(failed=bool(call and call.failed))
    assert not opened.errors, f"uncaught errors in the page: {opened.errors}"


@pytest.fixture
def make_user(dashboard_server):
    """Sign up a fresh user through the API; returns its identity and token."""
    counter = iter(range(1, 1000))

    def make(display_name: str) -> dict:
        stem = display_name.split()[0].lower()
        username = f"{stem}{next(counter)}_{int(time.time() * 1000) % 10_000_000}"
        return dashboard_server.register(username, display_name)

    return make
