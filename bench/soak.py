"""Soak the notifications and feed streams: nothing lost, nothing twice.

    .venv/bin/python -m bench.soak [--readers 300] [--writers 30] [--duration 120]
                                   [--follows 4] [--seed 1] [--ramp 10] [--read 0.3 3]
                                   [--url URL] [--json PATH]

Readers are clients of the real-time streams. Each holds two streams open,
/ws/notifications/<id> and /ws/feed/<id>, and behaves at random, session
after session: it connects with `?since=` the last id it saw, reads for a
while, then either closes, drops the TCP connection without a close frame,
or stalls (stops reading for a few seconds, so the server's buffers fill,
then reads on); after a close or a drop it stays away a moment and
reconnects; after a close by the server or a failed handshake it backs off
as SEED.md's client does (3, 6, 12, 24, 48 s). Writers meanwhile act
through the REST API as fast as the server answers: they post (some tweets
mention a reader), reply to readers' tweets, like and unlike them, follow
and unfollow readers.

The follow graph of the feeds is fixed before the soak starts (each reader
follows `--follows` writers at random) and only writers follow during it, so
what a reader's feed must deliver is exact: every tweet by the writers it
follows created after the soak started. What its notification stream must
deliver is every notification the database holds for it, created after the
start. When the writers stop, each reader's streams read on (resuming once
more if they were away) until the newest item the database holds for them
arrived, or 30 s pass. Then, for every reader and both streams, what the
database holds (read through the REST API: GET /api/notifications/ and
GET /api/feed/, paged) is compared with every item the client received,
across all its sessions, replays included: each must have arrived exactly
once, in order. (A stream that received the newest item but not an older
one has lost it: a resume never goes back before the last id seen.)

Without --url a private Daphne is started on a fresh SQLite database with
the REST write throttle and the sign-up throttle lifted, and the replay
cap raised to 5,000 (a reader away for long is told to reload, which is not
what this measures); Daphne's log goes to the work folder printed first.
Its users are created in one `manage.py shell` call (sign-up would spend
a third of a second of CPU hashing each password); with --url the server is
yours, with its settings, and every user signs up through the REST API.

Prints the figures as JSON (also written to --json PATH if given). Exits 0
when there was no loss, no duplicate and nothing out of order; 1 otherwise.

  --readers   stream clients (two WebSockets each)       default 300
  --writers   REST clients acting meanwhile              default 30
  --duration  seconds the writers act                    default 120
  --follows   writers each reader follows                default 4
  --seed      seed of every random choice                default 1
  --ramp      seconds over which readers first connect   default 10
  --read      MIN MAX seconds a session reads before its
              reader closes, drops or stalls             default 0.3 3
"""

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

REPO_ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "soak-Password-2026!"
STREAMS = ("notifications", "feed")
# Settings a private server runs with (and that a test's server should take).
SERVER_ENV = {
    "API_WRITE_RATE": "10000000/minute",
    "API_CREDENTIALS_RATE": "10000000/minute",
    "REALTIME_REPLAY_LIMIT": "5000",
    # Every reader connects from 127.0.0.1.
    "REALTIME_MAX_SOCKETS_PER_ADDRESS": "1000000",
    "REALTIME_HANDSHAKES_PER_SECOND": "1000000",
    "REALTIME_HANDSHAKES_BURST": "1000000",
    # No waiting room: readers reconnect at once by design.
    "REALTIME_ADMISSIONS_PER_SECOND": "0",
}
# How long the streams may take, once the writers stop, to deliver the rest.
SETTLE_SECONDS = 30.0


@dataclass
class SoakConfig:
    readers: int = 300
    writers: int = 30
    duration: float = 120.0
    follows: int = 4
    seed: int = 1
    # Readers open their first sessions spread over this many seconds (as
    # clients do after a deploy, with jitter), not all in the same instant.
    ramp: float = 10.0
    # A reader's session: reads this long, then closes, drops or stalls.
    read_seconds: tuple[float, float] = (0.3, 3.0)
    stall_seconds: tuple[float, float] = (0.5, 3.0)
    away_seconds: tuple[float, float] = (0.0, 1.0)
    behaviours: tuple[str, ...] = ("close", "drop", "stall")
    # A writer's pause between two actions.
    writer_pause: tuple[float, float] = (0.0, 0.02)


@dataclass
class Account:
    user_id: str
    username: str
    token: str


# --- REST -------------------------------------------------------------------


class Api:
    """The REST API over one keep-alive connection per thread."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.local = threading.local()

    def call(self, method: str, path: str, token: str | None = None, body=None):
        """Return (status, decoded JSON or None). A broken connection is status 0."""
        headers = {"Accept": "application/json"}
        data = None
        if token:
            headers["Authorization"] = f"Token {token}"
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            return 0, None
        try:
            return response.status, json.loads(content) if content else None
        except ValueError:
            return response.status, None

    def ok(self, method: str, path: str, token: str | None = None, body=None, expect=200):
        status, answer = self.call(method, path, token, body)
        if status != expect:
            raise RuntimeError(f"{method} {path}: {status} {answer}")
        return answer

    def register(self, username: str) -> Account:
        answer = self.ok(
            "POST",
            "/api/auth/register/",
            body={"username": username, "password": PASSWORD},
            expect=201,
        )
        return Account(user_id=answer["user_id"], username=username, token=answer["token"])

    def all_pages(self, path: str, token: str, *, newer_than: int) -> list[dict]:
        """Every item of a newest-first cursor-paginated list with id > `newer_than`, oldest first."""
        items, url = [], f"{path}?page_size=100"
        while url:
            page = self.ok("GET", url, token)
            fresh = [item for item in page["results"] if int(item_id(item)) > newer_than]
            items += fresh
            if len(fresh) < len(page["results"]) or not page["next"]:
                break
            parts = urlsplit(page["next"])
            url = f"{parts.path}?{parts.query}"
        return items[::-1]


def item_id(item: dict) -> str:
    return item.get("notification_id") or item["tweet_id"]


# --- Readers ------------------------------------------------------------------


@dataclass
class StreamLog:
    """What one reader's stream received, across all its sessions."""

    ids: list[str] = field(default_factory=list)
    sessions: int = 0
    closes: int = 0
    drops: int = 0
    stalls: int = 0
    # Items that arrived before the session's first pong: its replay (and
    # any live item that raced it).
    before_pong: int = 0
    # Handshakes that failed (refused, timed out): the client backs off and retries.
    failed_connects: int = 0
    # Anything else that went wrong: unexpected frames (an error frame, say).
    errors: list[str] = field(default_factory=list)
    server_closes: Counter = field(default_factory=Counter)
    # Per session: (seconds since the epoch at connect, since, ids received).
    history: list[tuple[float, int, list[str]]] = field(default_factory=list)

    @property
    def last(self) -> int:
        return int(self.ids[-1]) if self.ids else 0


class Reader:
    def __init__(self, soak: "Soak", account: Account, rng: random.Random):
        self.soak = soak
        self.account = account
        self.rng = rng
        self.marks: dict[str, int] = {}
        self.logs = {stream: StreamLog() for stream in STREAMS}
        self.expected: dict[str, list[str]] = {}

    def url(self, stream: str) -> str:
        log = self.logs[stream]
        since = max(log.last, self.marks[stream])
        log.history.append((time.time(), since, []))
        query = urlencode({"token": self.account.token, "since": since})
        return f"{self.soak.ws_url}/ws/{stream}/{self.account.user_id}?{query}"

    async def run(self, stream: str) -> None:
        config, log = self.soak.config, self.logs[stream]
        failures = 0
        await asyncio.sleep(self.rng.uniform(0, config.ramp))
        while not self.soak.writers_done.is_set():
            behaviour = self.rng.choice(config.behaviours)
            try:
                async with connect(self.url(stream), proxy=None, open_timeout=30, close_timeout=2) as ws:
                    log.sessions += 1
                    await self.start_session(ws, log)
                    failures = 0
                    await self.read(ws, log, seconds=self.rng.uniform(*config.read_seconds))
                    if behaviour == "stall":
                        log.stalls += 1
                        await asyncio.sleep(self.rng.uniform(*config.stall_seconds))
                        await self.read(ws, log, seconds=self.rng.uniform(*config.read_seconds))
                    if behaviour == "drop":
                        log.drops += 1
                        ws.transport.abort()
                    else:
                        log.closes += 1
            except ConnectionClosed as closed:
                log.server_closes[closed.rcvd.code if closed.rcvd else "dropped"] += 1
                failures += 1
            except (OSError, TimeoutError, InvalidHandshake):
                log.failed_connects += 1
                failures += 1
            if failures:
                # SEED.md's schedule after a connection the server ended or
                # refused: 3, 6, 12, 24, 48 s (with jitter; this client never
                # gives up). Its own closes and drops it follows at once.
                await asyncio.sleep(min(48, 3 * 2 ** (failures - 1)) * self.rng.uniform(0.5, 1))
            else:
                await asyncio.sleep(self.rng.uniform(*config.away_seconds))
        await self.soak.expected_known.wait()
        await self.settle(stream)

    async def settle(self, stream: str) -> None:
        """Once more with `since`, until the newest item the database holds arrived.

        Past that, waiting is pointless: an item missing before it can only
        have been skipped, and a resume never goes back before `since`.
        """
        log, expected = self.logs[stream], self.expected[stream]
        deadline = time.monotonic() + SETTLE_SECONDS

        def done() -> bool:
            return not expected or expected[-1] in log.ids

        while not done() and time.monotonic() < deadline:
            try:
                async with connect(self.url(stream), proxy=None, open_timeout=30, close_timeout=2) as ws:
                    log.sessions += 1
                    await self.start_session(ws, log)
                    while not done() and time.monotonic() < deadline:
                        await self.read(ws, log, seconds=0.5)
                    # What follows the newest item is a duplicate or a stray.
                    await self.read(ws, log, seconds=0.3)
            except ConnectionClosed as closed:
                log.server_closes[closed.rcvd.code if closed.rcvd else "dropped"] += 1
            except (OSError, TimeoutError, InvalidHandshake):
                log.failed_connects += 1
                await asyncio.sleep(0.5)

    async def start_session(self, ws, log: StreamLog) -> None:
        await ws.send("ping")
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if message["type"] == "pong":
                return
            log.before_pong += self.record(message, log)

    async def read(self, ws, log: StreamLog, *, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                text = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                return
            self.record(json.loads(text), log)

    def record(self, message: dict, log: StreamLog) -> int:
        """Note the ids `message` carries; return how many."""
        kind, data = message["type"], message.get("data", {})
        if kind == "notification":
            ids = [data["notification_id"]]
        elif kind == "feed_update":
            ids = [tweet["tweet_id"] for tweet in data["tweets"]]
        else:
            log.errors.append(f"unexpected {kind}: {data}")
            ids = []
        log.ids += ids
        log.history[-1][2].extend(ids)
        return len(ids)


# --- Writers ------------------------------------------------------------------

ACTIONS = {
    # action: weight
    "post": 3,
    "mention": 2,
    "reply": 2,
    "like": 3,
    "unlike": 1,
    "follow": 1,
    "unfollow": 1,
}


class Writer:
    def __init__(self, soak: "Soak", account: Account, rng: random.Random):
        self.soak = soak
        self.account = account
        self.rng = rng
        self.actions: Counter = Counter()
        self.failures: list[str] = []

    def run(self, deadline: float) -> None:
        names, weights = list(ACTIONS), list(ACTIONS.values())
        while time.monotonic() < deadline:
            action = self.rng.choices(names, weights)[0]
            method, path, body = self.request(action)
            status, answer = self.soak.api.call(method, path, self.account.token, body)
            self.actions[action] += 1
            if not 200 <= status < 300:
                self.failures.append(f"{action} {method} {path}: {status} {answer}")
            time.sleep(self.rng.uniform(*self.soak.config.writer_pause))

    def request(self, action: str):
        reader = self.rng.choice(self.soak.readers)
        tweet_id = self.soak.reader_tweets[reader.account.user_id]
        n = sum(self.actions.values())
        if action == "post":
            return "POST", "/api/tweets/", {"content": f"soak {n} by {self.account.username} #soak"}
        if action == "mention":
            content = f"hello @{reader.account.username} ({n})"
            return "POST", "/api/tweets/", {"content": content}
        if action == "reply":
            return "POST", "/api/tweets/", {"content": f"reply {n}", "reply_to": tweet_id}
        if action in ("like", "unlike"):
            return ("POST" if action == "like" else "DELETE"), f"/api/tweets/{tweet_id}/like/", None
        method = "POST" if action == "follow" else "DELETE"
        return method, f"/api/users/{reader.account.user_id}/follow/", None


# --- The soak -----------------------------------------------------------------


# Sign-up hashes a password (PBKDF2, a third of a second of CPU each): for
# hundreds of users, a server of one's own creates them in one go instead.
CREATE_ACCOUNTS = """
import json
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
User = get_user_model()
users = User.objects.bulk_create([User(username=name, password="!") for name in json.loads(%r)])
tokens = Token.objects.bulk_create([Token(user=user, key=Token.generate_key()) for user in users])
print(json.dumps([[str(u.pk), u.username, t.key] for u, t in zip(users, tokens)]))
"""


def accounts_by_manage(env: dict):
    """Return a function making accounts by `manage.py shell` with `env` (the
    server's database) rather than by sign-up; passwords are unusable."""

    def make(names: list[str]) -> list[Account]:
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", CREATE_ACCOUNTS % json.dumps(names)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        rows = json.loads(result.stdout.strip().splitlines()[-1])
        return [Account(user_id=pk, username=name, token=token) for pk, name, token in rows]

    return make


class Soak:
    def __init__(self, base_url: str, config: SoakConfig, *, make_accounts=None):
        """`make_accounts(names) -> [Account]`; by default each signs up through REST."""
        self.make_accounts = make_accounts
        self.config = config
        self.api = Api(base_url)
        self.ws_url = "ws" + base_url.removeprefix("http")
        self.rng = random.Random(config.seed)
        self.readers: list[Reader] = []
        self.writers: list[Writer] = []
        self.reader_tweets: dict[str, str] = {}
        self.follows: dict[str, list[str]] = {}
        self.writers_done = asyncio.Event()
        self.expected_known = asyncio.Event()

    def rng_for(self) -> random.Random:
        return random.Random(self.rng.random())

    def set_up(self) -> float:
        """Users, one tweet each, the readers' follows; return the seconds it took."""
        config, started = self.config, time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            names = [f"soakr{i}_{uuid.uuid4().hex[:8]}" for i in range(config.readers)]
            names += [f"soakw{i}_{uuid.uuid4().hex[:8]}" for i in range(config.writers)]
            if self.make_accounts is None:
                accounts = list(pool.map(self.api.register, names))
            else:
                accounts = self.make_accounts(names)
            readers, writers = accounts[: config.readers], accounts[config.readers :]
            self.readers = [Reader(self, account, self.rng_for()) for account in readers]
            self.writers = [Writer(self, account, self.rng_for()) for account in writers]
            for account in writers:
                self.post(account, "a writer's first tweet")
            for reader, tweet in zip(readers, pool.map(lambda a: self.post(a, "read me"), readers)):
                self.reader_tweets[reader.user_id] = tweet
            follows = []
            for reader in self.readers:
                chosen = self.rng.sample(writers, min(config.follows, len(writers)))
                self.follows[reader.account.user_id] = [w.user_id for w in chosen]
                follows += [(reader.account, writer) for writer in chosen]
            list(pool.map(lambda pair: self.follow(*pair), follows))
            # Where each stream starts: what exists now is not the soak's.
            for reader in self.readers:
                token = reader.account.token
                reader.marks = {
                    "notifications": newest_id(self.api.ok("GET", "/api/notifications/?page_size=1", token)),
                    "feed": newest_id(self.api.ok("GET", "/api/feed/?page_size=1", token)),
                }
        return time.monotonic() - started

    def post(self, account: Account, content: str) -> str:
        return self.api.ok("POST", "/api/tweets/", account.token, {"content": content}, 201)["tweet_id"]

    def follow(self, follower: Account, followee: Account) -> None:
        self.api.ok("POST", f"/api/users/{followee.user_id}/follow/", follower.token)

    async def run(self) -> dict:
        config = self.config
        setup_seconds = await asyncio.to_thread(self.set_up)
        tasks = [asyncio.create_task(reader.run(stream)) for reader in self.readers for stream in STREAMS]
        started = time.monotonic()
        deadline = started + config.duration
        with ThreadPoolExecutor(len(self.writers)) as pool:
            futures = [pool.submit(writer.run, deadline) for writer in self.writers]
            while not all(future.done() for future in futures):
                await asyncio.sleep(0.2)
            for future in futures:
                future.result()
        acting_seconds = time.monotonic() - started
        self.writers_done.set()
        await asyncio.to_thread(self.read_expected)
        self.expected_known.set()
        await asyncio.gather(*tasks)
        return self.report(setup_seconds, acting_seconds, time.monotonic() - started)

    def read_expected(self) -> None:
        """What the database holds for each reader's streams since its marks."""

        def expected(reader: Reader) -> None:
            token, followed = reader.account.token, set(self.follows[reader.account.user_id])
            notifications = self.api.all_pages(
                "/api/notifications/", token, newer_than=reader.marks["notifications"]
            )
            timeline = self.api.all_pages("/api/feed/", token, newer_than=reader.marks["feed"])
            reader.expected = {
                "notifications": [item["notification_id"] for item in notifications],
                # The home timeline holds one's own tweets too; the stream does not.
                "feed": [tweet["tweet_id"] for tweet in timeline if tweet["author_id"] in followed],
            }

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(expected, self.readers))

    def report(self, setup_seconds: float, acting_seconds: float, total_seconds: float) -> dict:
        streams = {}
        for stream in STREAMS:
            logs = [(reader, reader.logs[stream]) for reader in self.readers]
            problems = [check_delivery(r.expected[stream], log.ids) for r, log in logs]
            server_closes = sum((log.server_closes for _, log in logs), Counter())
            streams[stream] = {
                "items_in_database": sum(len(r.expected[stream]) for r, _ in logs),
                "items_received": sum(len(log.ids) for _, log in logs),
                "items_before_first_pong": sum(log.before_pong for _, log in logs),
                "sessions": sum(log.sessions for _, log in logs),
                "reconnects": sum(max(0, log.sessions - 1) for _, log in logs),
                "client_closes": sum(log.closes for _, log in logs),
                "client_drops": sum(log.drops for _, log in logs),
                "client_stalls": sum(log.stalls for _, log in logs),
                "server_closes": {str(code): n for code, n in server_closes.items()},
                "lost": sum(p["lost"] for p in problems),
                "duplicates": sum(p["duplicates"] for p in problems),
                "strays": sum(p["strays"] for p in problems),
                "out_of_order_readers": sum(p["out_of_order"] for p in problems),
                "failed_handshakes": sum(log.failed_connects for _, log in logs),
                "errors": [e for _, log in logs for e in log.errors][:5],
                "examples": [
                    {"user_id": r.account.user_id, **p, "sessions": around(log, p["first_lost"])}
                    for (r, log), p in zip(logs, problems)
                    if p["lost"] or p["duplicates"] or p["strays"] or p["out_of_order"]
                ][:5],
            }
        actions = sum((writer.actions for writer in self.writers), Counter())
        failures = [f for writer in self.writers for f in writer.failures]
        return {
            "readers": self.config.readers,
            "websockets": self.config.readers * len(STREAMS),
            "writers": self.config.writers,
            "seed": self.config.seed,
            "setup_seconds": round(setup_seconds, 1),
            "acting_seconds": round(acting_seconds, 1),
            "total_seconds": round(total_seconds, 1),
            "rest_actions": sum(actions.values()),
            "rest_actions_per_second": round(sum(actions.values()) / acting_seconds, 1),
            "rest_actions_by_kind": dict(actions),
            "rest_failures": len(failures),
            "rest_failure_examples": failures[:5],
            "streams": streams,
        }


def around(log: StreamLog, item: str | None) -> list[str]:
    """The sessions of `log` next to where `item` belonged, for a report."""
    if item is None:
        return []
    lines = []
    for started, since, ids in log.history:
        if ids and int(ids[-1]) < int(item) - 30 or since > int(item) + 30:
            continue
        lines.append(
            f"{time.strftime('%H:%M:%S', time.gmtime(started))}.{int(started * 1000) % 1000:03d} "
            f"since={since} got {','.join(ids)}"
        )
    return lines


def newest_id(page: dict) -> int:
    return int(item_id(page["results"][0])) if page["results"] else 0


def check_delivery(expected: list[str], received: list[str]) -> dict:
    """Compare the ids a stream received with those it should have, in order."""
    counts = Counter(received)
    wanted = set(expected)
    return {
        "lost": sum(1 for item in expected if item not in counts),
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "strays": sum(1 for item in counts if item not in wanted),
        "out_of_order": int(
            [item for item in dict.fromkeys(received) if item in wanted]
            != [item for item in expected if item in counts]
        ),
        "first_lost": next((item for item in expected if item not in counts), None),
    }


def clean(report: dict) -> bool:
    """Whether every stream delivered every item exactly once, in order."""
    return all(
        not (s["lost"] or s["duplicates"] or s["strays"] or s["out_of_order_readers"])
        and s["items_received"] == s["items_in_database"]
        for s in report["streams"].values()
    )


# --- A private server -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def private_server(workdir: Path):
    """Daphne on a fresh SQLite database, with SERVER_ENV; yield its base URL
    and environment."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(SERVER_ENV, DATABASE_URL=f"sqlite:///{workdir / 'soak.sqlite3'}", PYTHONUNBUFFERED="1")
    # DEBUG is off unless asked for, and then a key is required.
    env.setdefault("SECRET_KEY", "soak-only-" + "x" * 50)
    python = sys.executable
    log = open(workdir / "daphne.log", "ab")
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=log,
        check=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            python,
            "-m",
            "realtime_project.realtime.server",
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
    base_url = f"http://127.0.0.1:{port}"
    try:
        api = Api(base_url)
        for _ in range(200):
            if process.poll() is not None:
                raise RuntimeError(f"Daphne exited; see {workdir / 'daphne.log'}")
            if api.call("GET", "/healthz")[0] == 200:
                break
            time.sleep(0.1)
        yield base_url, env
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = SoakConfig()
    parser.add_argument("--readers", type=int, default=defaults.readers)
    parser.add_argument("--writers", type=int, default=defaults.writers)
    parser.add_argument("--duration", type=float, default=defaults.duration)
    parser.add_argument("--follows", type=int, default=defaults.follows)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--ramp", type=float, default=defaults.ramp)
    parser.add_argument(
        "--read",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        default=defaults.read_seconds,
        help="seconds a reader reads in a session before it closes, drops or stalls",
    )
    parser.add_argument("--url", help="a running server (http://host:port); default: start one")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    config = SoakConfig(
        readers=args.readers,
        writers=args.writers,
        duration=args.duration,
        follows=args.follows,
        seed=args.seed,
        ramp=args.ramp,
        read_seconds=tuple(args.read),
    )
    with contextlib.ExitStack() as stack:
        if args.url:
            base_url, make_accounts = args.url.rstrip("/"), None
        else:
            workdir = Path(tempfile.mkdtemp(prefix="soak-"))
            print(f"server log: {workdir / 'daphne.log'}", file=sys.stderr)
            base_url, env = stack.enter_context(private_server(workdir))
            make_accounts = accounts_by_manage(env)
        report = asyncio.run(Soak(base_url, config, make_accounts=make_accounts).run())
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if clean(report) else 1


if __name__ == "__main__":
    sys.exit(main())
