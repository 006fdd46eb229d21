"""What the end-to-end tests use to drive a live server: HTTP, WebSockets and
the checks of PROTOCOL.md's message shapes.

Only the standard library and `websockets`: the tests talk to the server as
any client would, over real sockets, and never touch its database.
"""

import asyncio
import functools
import http.client
import http.cookiejar
import itertools
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

PASSWORD = "e2e-Password-2026!"
REPO_ROOT = Path(__file__).resolve().parents[2]
# How long any single expected message may take to arrive. Generous for a
# loaded CI machine; a passing test never waits this long.
MESSAGE_TIMEOUT = 5.0

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")
TWEET_FIELDS = {
    "tweet_id",
    "author_id",
    "author_name",
    "content",
    "topics",
    "reply_to",
    "engagement",
    "created_at",
}
ENGAGEMENT_FIELDS = {"likes", "replies", "retweets", "bookmarks"}
# SEED.md's notification; `read` is PROTOCOL.md's REST addition, and one
# serializer serves REST and WebSocket alike, so it may appear in both.
NOTIFICATION_FIELDS = {
    "notification_id",
    "type",
    "actor_id",
    "actor_name",
    "tweet_id",
    "created_at",
}
TRENDING_TOPIC_FIELDS = {"topic", "tweet_count", "engagement_score", "growth_rate"}
STATS_FIELDS = {"active_users", "total_user_connections", "global_connections", "total_connections"}

_usernames = itertools.count(1)


@dataclass(frozen=True)
class Account:
    user_id: str
    username: str
    token: str
    display_name: str


# --- HTTP -------------------------------------------------------------------


# A second client address on loopback: "another client" while one address
# (127.0.0.1) attacks. Linux routes all of 127.0.0.0/8 to lo.
OTHER_CLIENT_ADDRESS = "127.0.0.2"


class _FromAddress(urllib.request.HTTPHandler):
    """Open HTTP connections from a given local address."""

    def __init__(self, address: str):
        super().__init__()
        self.address = address

    def http_open(self, req):
        return self.do_open(
            functools.partial(http.client.HTTPConnection, source_address=(self.address, 0)), req
        )


def _opener(cookies: http.cookiejar.CookieJar | None = None, source_address: str | None = None):
    # No proxies from the environment: the server is on loopback.
    handlers = [urllib.request.ProxyHandler({})]
    if cookies is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(cookies))
    if source_address is not None:
        handlers.append(_FromAddress(source_address))
    return urllib.request.build_opener(*handlers)


def http_request(
    url: str,
    method: str = "GET",
    *,
    data: bytes | None = None,
    headers: dict | None = None,
    cookies: http.cookiejar.CookieJar | None = None,
    timeout: float = 10,
    source_address: str | None = None,
) -> tuple[int, dict, bytes]:
    """Return (status, headers, body) of one request; HTTP errors are answers too.
    `source_address`: the local address to send it from (another client)."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with _opener(cookies, source_address).open(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def decode_json(body: bytes):
    """The JSON of `body`, or its text when it is not JSON (a 500 page, say)."""
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def wrong_sign_in(server, *, source_address: str, forwarded_for: str | None = None) -> int:
    """Try a wrong password from `source_address` (naming `forwarded_for`
    in X-Forwarded-For); return the status: 401, or 429 past the limit."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    status, _ = server.api(
        "POST",
        "/api/auth/token/",
        body={"username": "nobody-at-all", "password": "guess"},
        headers=headers,
        source_address=source_address,
    )
    return status


# --- The live server --------------------------------------------------------


def run_manage(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `manage.py <args>` with `env` (a server's database and Redis)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class LiveServer:
    """A Daphne process serving the project, and the ways to talk to it."""

    def __init__(self, *, name: str, process, port: int, env: dict, log_path: Path):
        self.name = name
        self.process = process
        self.port = port
        self.env = env
        self.log_path = log_path
        self.http_url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # HTTP

    def api(
        self,
        method,
        path,
        token=None,
        body=None,
        *,
        raw_body=None,
        cookies=None,
        headers=None,
        source_address=None,
    ):
        """Call the REST API. Return (status, decoded JSON). `source_address`:
        send it from that local address (e.g. OTHER_CLIENT_ADDRESS)."""
        extra_headers = headers or {}
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        data = None
        if raw_body is not None:
            data = raw_body if isinstance(raw_body, bytes) else raw_body.encode()
            headers["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        headers.update(extra_headers)
        status, _, content = http_request(
            self.http_url + path,
            method,
            data=data,
            headers=headers,
            cookies=cookies,
            source_address=source_address,
        )
        return status, decode_json(content)

    def browser_sign_in(self, account: "Account", cookies: http.cookiejar.CookieJar) -> dict:
        """Sign `account` in as the dashboard does: its page sets the CSRF
        cookie, the sign-in sends it back in X-CSRFToken (login CSRF is
        refused). `cookies` then holds the session. Return the answer."""
        http_request(self.http_url + "/", cookies=cookies)
        csrf = {cookie.name: cookie.value for cookie in cookies}.get("csrftoken")
        assert csrf, f"the dashboard set no csrftoken cookie: {[c.name for c in cookies]}"
        status, answer = self.api(
            "POST",
            "/api/auth/login/",
            body={"username": account.username, "password": PASSWORD},
            cookies=cookies,
            headers={"X-CSRFToken": csrf},
        )
        assert status == 200, (status, answer)
        return answer

    def stats(self) -> dict:
        status, body = self.api("GET", "/ws/stats")
        assert status == 200, (status, body)
        return body

    def register(self, display_name: str = "") -> Account:
        """Register a fresh user and return its identity and API token."""
        username = f"e2e{next(_usernames)}_{uuid.uuid4().hex[:8]}"
        body = {"username": username, "password": PASSWORD}
        if display_name:
            body["display_name"] = display_name
        status, answer = self.api("POST", "/api/auth/register/", body=body)
        assert status == 201, (status, answer)
        return Account(
            user_id=answer["user_id"],
            username=username,
            token=answer["token"],
            display_name=display_name or username,
        )

    def post_tweet(self, author: Account, content: str, **fields) -> dict:
        body = {"content": content, **fields}
        status, tweet = self.api("POST", "/api/tweets/", author.token, body)
        assert status == 201, (status, tweet)
        return tweet

    def follow(self, follower: Account, followee: Account) -> None:
        status, answer = self.api("POST", f"/api/users/{followee.user_id}/follow/", follower.token)
        assert status == 200, (status, answer)

    def engage(self, account: Account, tweet: dict, action: str, method: str = "POST") -> dict:
        """Like, retweet or bookmark (`action`) a tweet, or undo it with DELETE."""
        path = f"/api/tweets/{tweet['tweet_id']}/{action}/"
        status, answer = self.api(method, path, account.token)
        assert status == 200, (status, answer)
        return answer

    def manage(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run `manage.py <args>` with this server's environment (database, Redis)."""
        return run_manage(self.env, *args, timeout=timeout)

    # WebSocket

    def connect(self, path: str, token: str | None = None, *, query=None, headers=None, source_address=None):
        """Open a WebSocket to `path` (use with `async with`); `token` goes in `?token=`.
        `source_address`: connect from that local address (another client)."""
        params = dict(query or {})
        if token is not None:
            params["token"] = token
        url = self.ws_url + path + (f"?{urlencode(params)}" if params else "")
        extra = {"local_addr": (source_address, 0)} if source_address else {}
        return connect(url, additional_headers=headers, proxy=None, open_timeout=MESSAGE_TIMEOUT, **extra)


# --- WebSocket messages -----------------------------------------------------


async def recv_json(ws, timeout: float = MESSAGE_TIMEOUT) -> dict:
    """The next message from the server, decoded; fail if none comes within `timeout`."""
    try:
        text = await asyncio.wait_for(ws.recv(), timeout)
    except TimeoutError:
        pytest.fail(f"no message from the server within {timeout} s")
    except ConnectionClosed as closed:
        pytest.fail(f"the server closed the connection ({closed.rcvd}) instead of sending")
    return json.loads(text)


async def recv_data(ws, kind: str, timeout: float = MESSAGE_TIMEOUT) -> dict:
    """Check that the next message is a well-formed `kind` envelope; return its `data`."""
    return assert_envelope(await recv_json(ws, timeout), kind)


async def next_notification(ws, *, kind: str, actor: Account, tweet: dict | None) -> dict:
    """Check that the next message is the `kind` notification about `actor`'s action."""
    data = await recv_data(ws, "notification")
    assert_notification(data, kind=kind, actor=actor, tweet=tweet)
    return data


async def next_engagement(ws, tweet: dict, **counts: int) -> dict:
    """Check that the next message is `tweet`'s engagement_update with `counts`."""
    data = await recv_data(ws, "engagement_update")
    assert_engagement_update(data, tweet, **counts)
    return data


async def ping(ws) -> None:
    """Send a plain `ping`; the very next message must be the `pong`.

    The server handles a connection's messages in order, so a pong also
    proves that the connection finished joining its groups.
    """
    await ws.send("ping")
    message = await recv_json(ws)
    assert message["type"] == "pong", message
    assert_iso_utc(message["timestamp"])


async def expect_close(ws, code: int, timeout: float = MESSAGE_TIMEOUT) -> None:
    """The server closes the connection with `code`, sending nothing before."""
    try:
        message = await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the connection dropped without a close frame"
        assert closed.rcvd.code == code, f"closed with {closed.rcvd.code}, expected {code}"
    except TimeoutError:
        pytest.fail(f"the connection stayed open; expected close code {code}")
    else:
        pytest.fail(f"expected close code {code}, got a message first: {message}")


async def settled_stats(server) -> dict:
    """/ws/stats once connections closed by earlier tests are all forgotten
    (the same figures for a few reads in a row)."""
    readings = [server.stats()]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (
        len(readings) >= 3 and readings[-1] == readings[-2] == readings[-3]
    ):
        await asyncio.sleep(0.1)
        readings.append(server.stats())
    return readings[-1]


async def wait_for_stats(server, expected: dict, timeout: float = 3) -> None:
    """Poll /ws/stats until it shows `expected`; fail if it does not in time."""
    deadline = time.monotonic() + timeout
    while (current := server.stats()) != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert current == expected, f"{server.name}: /ws/stats {current}, expected {expected}"


# --- Shapes -----------------------------------------------------------------


def assert_iso_utc(value) -> None:
    assert isinstance(value, str) and ISO_UTC.match(value), f"not an ISO 8601 UTC time: {value!r}"
    datetime.fromisoformat(value)


def assert_id(value) -> None:
    assert isinstance(value, str) and value.isdigit(), f"an id must be a numeric string: {value!r}"


# Kinds that belong to a stream, and name it (PROTOCOL.md, second round).
STREAM_KINDS = {"notification", "trending", "feed_update", "engagement_update", "typing"}


def assert_envelope(message: dict, kind: str) -> dict:
    """Check `{type, timestamp, data}` for `kind` (with `stream`, a name of
    the stream's kind, for a stream's messages); return `data`."""
    assert message.get("type") == kind, f"expected a {kind!r} message, got {message}"
    if kind in STREAM_KINDS:
        assert set(message) == {"type", "stream", "timestamp", "data"}, message
        assert isinstance(message["stream"], str) and message["stream"].split("/")[0] in {
            "notifications",
            "trending",
            "feed",
            "engagement",
        }, message
    else:
        assert set(message) == {"type", "timestamp", "data"}, message
    assert_iso_utc(message["timestamp"])
    assert isinstance(message["data"], dict), message
    return message["data"]


def assert_engagement(counts: dict, **expected: int) -> None:
    """Check the four counters; those not in `expected` must be 0."""
    assert set(counts) == ENGAGEMENT_FIELDS, counts
    assert all(type(value) is int for value in counts.values()), counts
    assert counts == {field: expected.get(field, 0) for field in ENGAGEMENT_FIELDS}, counts


def assert_engagement_update(data: dict, tweet: dict, **expected: int) -> None:
    assert set(data) == {"tweet_id", "engagement"}, data
    assert data["tweet_id"] == tweet["tweet_id"], data
    assert_engagement(data["engagement"], **expected)


def assert_tweet(data: dict, *, author: Account, content: str | None = None) -> None:
    assert set(data) == TWEET_FIELDS, data
    assert_id(data["tweet_id"])
    assert data["author_id"] == author.user_id
    assert data["author_name"] == author.display_name
    if content is not None:
        assert data["content"] == content
    assert isinstance(data["topics"], list) and all(isinstance(t, str) for t in data["topics"])
    if data["reply_to"] is not None:
        assert_id(data["reply_to"])
    assert set(data["engagement"]) == ENGAGEMENT_FIELDS, data
    assert_iso_utc(data["created_at"])


def tweet_fields(tweet: dict) -> dict:
    """The fields PROTOCOL.md gives a tweet, for comparing a tweet met in one
    place with the same tweet met in another (the exact shape is checked apart)."""
    return {field: tweet.get(field) for field in TWEET_FIELDS}


def assert_notification(data: dict, *, kind: str, actor: Account, tweet: dict | None) -> None:
    assert set(data) - {"read"} == NOTIFICATION_FIELDS, data
    assert_id(data["notification_id"])
    assert data["type"] == kind, data
    assert data["actor_id"] == actor.user_id, data
    assert data["actor_name"] == actor.display_name, data
    assert data["tweet_id"] == (tweet["tweet_id"] if tweet else None), data
    assert_iso_utc(data["created_at"])


def assert_trending(data: dict) -> None:
    assert set(data) == {"topics", "count"}, data
    assert isinstance(data["topics"], list) and data["count"] == len(data["topics"]), data
    for topic in data["topics"]:
        assert set(topic) == TRENDING_TOPIC_FIELDS, topic
        assert isinstance(topic["topic"], str) and type(topic["tweet_count"]) is int, topic
        assert isinstance(topic["engagement_score"], (int, float)), topic
        assert isinstance(topic["growth_rate"], (int, float)), topic


def assert_trending_is_current(server, data: dict) -> None:
    """Assert that `data` is a trending payload, the one `server`'s REST API answers now."""
    assert_trending(data)
    status, latest = server.api("GET", "/api/trending/")
    assert status == 200 and latest == data


def liked_and_bookmarked_tweet(server, content: str) -> tuple[Account, dict]:
    """Post `content` as a new user and have another new user like and
    bookmark it; return that fan and the tweet."""
    author, fan = server.register(), server.register()
    tweet = server.post_tweet(author, content)
    server.engage(fan, tweet, "like")
    server.engage(fan, tweet, "bookmark")
    return fan, tweet


def typing_data(tweet: dict, account: Account, is_typing: bool) -> dict:
    """The `data` of the typing message that `account` typing on `tweet` sends to other watchers."""
    return {
        "tweet_id": tweet["tweet_id"],
        "user_id": account.user_id,
        "user_name": account.display_name,
        "is_typing": is_typing,
    }


# --- Several processes ------------------------------------------------------


def metric_value(server, name: str, **labels: str) -> float:
    """One sample of `server`'s own /metrics (Prometheus text), 0 when absent."""
    status, _, body = http_request(server.http_url + "/metrics")
    assert status == 200, status
    wanted = name + (
        "{" + ",".join(f'{key}="{value}"' for key, value in sorted(labels.items())) + "}" if labels else ""
    )
    for line in body.decode().splitlines():
        sample, _, value = line.rpartition(" ")
        if sample == wanted:
            return float(value)
    return 0.0


def open_connections(server, stream: str | None = None) -> int:
    """How many `stream` WebSockets (None: of any stream) this one process
    holds, from its /metrics."""
    if stream is not None:
        return int(metric_value(server, "realtime_connections_open", stream=stream))
    status, _, body = http_request(server.http_url + "/metrics")
    assert status == 200, status
    return int(
        sum(
            float(line.rpartition(" ")[2])
            for line in body.decode().splitlines()
            if line.startswith("realtime_connections_open{")
        )
    )


async def wait_until(predicate, *, timeout: float, interval: float = 0.1, message: str = ""):
    """Poll `predicate()` (sync) until it returns something truthy; return it.
    Fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            pytest.fail(message or f"not true within {timeout} s")
        await asyncio.sleep(interval)


def plus_stats(
    stats: dict, *, users: int = 0, user_connections: int = 0, global_connections: int = 0
) -> dict:
    """`stats` (of /ws/stats) with these many more users and connections."""
    return {
        "active_users": stats["active_users"] + users,
        "total_user_connections": stats["total_user_connections"] + user_connections,
        "global_connections": stats["global_connections"] + global_connections,
        "total_connections": stats["total_connections"] + user_connections + global_connections,
    }
