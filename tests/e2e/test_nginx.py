"""The production front: Debian's nginx, configured by deploy/render_nginx.py,
in front of two Daphne processes on PostgreSQL and Redis. The same black-box
checks as against a bare Daphne, through nginx."""

import asyncio
import json
import time
from contextlib import AsyncExitStack

import pytest
from websockets.exceptions import InvalidStatus

from .conftest import free_port, render_nginx, running_nginx
from .helpers import (
    assert_engagement_update,
    assert_envelope,
    assert_trending,
    assert_tweet,
    http_request,
    next_engagement,
    next_notification,
    open_connections,
    ping,
    plus_stats,
    recv_data,
    recv_json,
    settled_stats,
    tweet_fields,
    wait_for_stats,
    wait_until,
)

pytestmark = pytest.mark.asyncio

# Connections opened one by one through nginx until both processes hold one;
# round-robin makes two enough, nginx's several workers may need a few more.
SPREAD_ATTEMPTS = 20


def read(path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


async def spread_over(stack, front, upstreams, stream: str | None, open_one) -> list:
    """Open `stream` connections through `front` (with `open_one`, a coroutine
    function taking the stack) until every upstream holds at least one.
    `stream` None counts connections of any stream (nothing else may open
    connections meanwhile)."""
    before = {s.port: open_connections(s, stream) for s in upstreams}
    opened = []
    for _ in range(SPREAD_ATTEMPTS):
        opened.append(await open_one(stack))
        now = {s.port: open_connections(s, stream) for s in upstreams}
        if all(now[port] > before[port] for port in now):
            return opened
    pytest.fail(f"{SPREAD_ATTEMPTS} {stream} connections through nginx all went to one process")


async def test_rest_through_nginx(nginx_front):
    front = nginx_front
    for path in ("/healthz", "/readyz", "/ws/stats"):
        assert http_request(front.http_url + path)[0] == 200, path
    author, fan = front.register("Nginx Author"), front.register()
    tweet = front.post_tweet(author, "through the proxy #nginx")
    assert_tweet(tweet, author=author, content="through the proxy #nginx")
    status, fetched = front.api("GET", f"/api/tweets/{tweet['tweet_id']}/", fan.token)
    assert status == 200 and tweet_fields(fetched) == tweet_fields(tweet)
    assert front.engage(fan, tweet, "like")["engagement"]["likes"] == 1
    front.follow(fan, author)
    status, page = front.api("GET", "/api/notifications/?unread=1", author.token)
    assert status == 200 and [n["type"] for n in page["results"]] == ["FOLLOW", "LIKE"]
    status, answer = front.api("GET", "/api/tweets/999999999/", fan.token)
    assert status == 404 and isinstance(answer, dict), answer
    status, answer = front.api("POST", "/api/tweets/", fan.token, raw_body="{not json")
    assert status == 400 and isinstance(answer, dict), answer


async def test_every_stream_upgrades_through_nginx_and_answers_pings(nginx_front):
    front = nginx_front
    me = front.register()
    tweet = front.post_tweet(me, "a tweet to watch")
    async with AsyncExitStack() as stack:
        inbox = await stack.enter_async_context(front.connect(f"/ws/notifications/{me.user_id}", me.token))
        feed = await stack.enter_async_context(front.connect(f"/ws/feed/{me.user_id}", me.token))
        trending = await stack.enter_async_context(front.connect("/ws/trending"))
        assert_trending(await recv_data(trending, "trending"))
        watcher = await stack.enter_async_context(front.connect(f"/ws/engagement/{tweet['tweet_id']}"))
        assert_engagement_update(await recv_data(watcher, "engagement_update"), tweet)
        for ws in (inbox, feed, trending, watcher):
            await ping(ws)
            await ws.send(json.dumps({"type": "ping"}))
            assert (await recv_json(ws))["type"] == "pong"
            await ws.send("{not json")
            assert assert_envelope(await recv_json(ws), "error")["code"]
            await ping(ws)  # still open


async def test_events_cross_processes_through_nginx(nginx_front, cluster):
    front, upstreams = nginx_front, cluster.servers[:2]
    author, fan = front.register(), front.register()
    tweet = front.post_tweet(author, "liked through one process, seen on both")
    front.follow(fan, author)
    path = f"/ws/engagement/{tweet['tweet_id']}"
    inbox_path = f"/ws/notifications/{author.user_id}"

    async def watcher(stack):
        ws = await stack.enter_async_context(front.connect(path))
        await recv_data(ws, "engagement_update")
        return ws

    async def inbox(stack):
        ws = await stack.enter_async_context(front.connect(inbox_path, author.token))
        await ping(ws)
        return ws

    async with AsyncExitStack() as stack:
        watchers = await spread_over(stack, front, upstreams, "engagement", watcher)
        inboxes = await spread_over(stack, front, upstreams, "notifications", inbox)
        front.engage(fan, tweet, "like")
        for ws in watchers:
            await next_engagement(ws, tweet, likes=1)
        for ws in inboxes:
            await next_notification(ws, kind="LIKE", actor=fan, tweet=tweet)
        front.post_tweet(fan, f"@{author.username} hello through nginx")
        for ws in inboxes:
            assert (await recv_data(ws, "notification"))["type"] == "MENTION"
        for ws in (*watchers, *inboxes):
            await ping(ws)


async def test_trending_command_reaches_clients_behind_nginx(nginx_front, cluster):
    front = nginx_front
    author = front.register()
    topic = f"Front{time.monotonic_ns() % 10**9}"
    async with AsyncExitStack() as stack:

        async def client(stack):
            ws = await stack.enter_async_context(front.connect("/ws/trending"))
            await recv_data(ws, "trending")
            return ws

        # Counted over all streams: /metrics is checked by stream elsewhere.
        clients = await spread_over(stack, front, cluster.servers[:2], None, client)
        for number in range(3):
            front.post_tweet(author, f"{number} #{topic}")
        result = await asyncio.to_thread(cluster.manage, "recompute_trending")
        assert result.returncode == 0, result.stderr
        assert "unchanged" not in result.stdout.lower(), result.stdout
        for ws in clients:
            trending = await recv_data(ws, "trending")
            assert topic in {t["topic"] for t in trending["topics"]}, trending


async def test_stats_through_nginx_count_every_process(nginx_front, cluster):
    front, (a, b) = nginx_front, cluster.servers[:2]
    user = front.register()
    baseline = await settled_stats(front)
    async with (
        front.connect(f"/ws/notifications/{user.user_id}", user.token) as one,
        a.connect(f"/ws/feed/{user.user_id}", user.token) as two,
        b.connect("/ws/trending") as three,
        front.connect("/ws/trending") as four,
    ):
        await ping(one)
        await ping(two)
        await recv_data(three, "trending")
        await recv_data(four, "trending")
        expected = plus_stats(baseline, users=1, user_connections=2, global_connections=2)
        for server in (front, a, b):
            await wait_for_stats(server, expected)
    await wait_for_stats(front, baseline)


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1.evil.example", "null"])
async def test_foreign_origin_is_refused_through_nginx(nginx_front, origin):
    me = nginx_front.register()
    with pytest.raises(InvalidStatus) as refused:
        async with nginx_front.connect(
            f"/ws/notifications/{me.user_id}", me.token, headers={"Origin": origin}
        ):
            pass
    assert refused.value.response.status_code == 403


async def test_own_origin_is_accepted_through_nginx(nginx_front):
    me = nginx_front.register()
    origin = f"http://127.0.0.1:{nginx_front.port}"
    async with nginx_front.connect(
        f"/ws/notifications/{me.user_id}", me.token, headers={"Origin": origin}
    ) as ws:
        await ping(ws)


async def test_nginx_logs_hold_no_token(nginx_front):
    front = nginx_front
    me = front.register()
    path = f"/ws/notifications/{me.user_id}"
    async with front.connect(path, me.token, query={"since": "1"}) as ws:
        await ping(ws)
    front.api("GET", "/api/notifications/?unread=1", me.token)
    # nginx logs a WebSocket when it closes.
    await wait_until(
        lambda: f'"GET {path}" 101' in read(front.access_log_path),
        timeout=5,
        message=f"no access log line for the WebSocket:\n{read(front.access_log_path)[-2000:]}",
    )
    for log in (front.access_log_path, front.error_log_path):
        text = read(log)
        assert me.token not in text and "token=" not in text, f"{log.name} holds a token"
    assert "?" not in read(front.access_log_path), "query strings reach the access log"


async def test_site_part_keeps_tokens_out_of_a_debian_style_nginx(cluster, tmp_path):
    """`render_nginx.py --site` in /etc/nginx/conf.d/ under Debian's nginx.conf,
    whose `http` block logs whole request lines (queries too) by default,
    with one upstream down: failover works, and no token reaches a log."""
    site = tmp_path / "realtime.conf"
    port, dead_port = free_port(), free_port()
    # Nothing listens on dead_port. First, so that each nginx worker's
    # round-robin tries it with its first request.
    upstreams = [dead_port] + [s.port for s in cluster.servers[:2]]
    site.write_text(
        render_nginx(
            "--site",
            "--listen",
            f"127.0.0.1:{port}",
            "--access-log",
            str(tmp_path / "realtime-access.log"),
            "--error-log",
            str(tmp_path / "error.log"),
            *(arg for p in upstreams for arg in ("--upstream", f"127.0.0.1:{p}")),
        )
    )
    # Debian's /etc/nginx/nginx.conf, reduced to what matters here.
    debian = tmp_path / "debian-nginx.conf"
    debian.write_text(
        f"""
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/error.log;
        events {{ worker_connections 768; }}
        http {{
            access_log {tmp_path}/access.log;
            error_log {tmp_path}/error.log;
            client_body_temp_path {tmp_path}/client_body;
            proxy_temp_path {tmp_path}/proxy;
            fastcgi_temp_path {tmp_path}/fastcgi;
            uwsgi_temp_path {tmp_path}/uwsgi;
            scgi_temp_path {tmp_path}/scgi;
            include {site};
        }}
        """
    )
    with running_nginx(cluster.servers[:2], tmp_path, cluster.env, config=debian, port=port) as front:
        me = front.register()
        path = f"/ws/notifications/{me.user_id}"
        for _ in range(len(upstreams)):
            async with front.connect(path, me.token) as ws:
                await ping(ws)
        await wait_until(
            lambda: f"127.0.0.1:{dead_port}" in read(tmp_path / "realtime-access.log"),
            timeout=5,
            message="the dead upstream was never tried (or not logged)",
        )
    assert read(tmp_path / "access.log") == "", "the default access log got the site's requests"
    for log in ("realtime-access.log", "error.log"):
        text = read(tmp_path / log)
        assert "token=" not in text and me.token not in text, f"{log} holds a token:\n{text}"


async def test_a_killed_process_is_skipped_by_nginx(disposable_cluster, tmp_path):
    """A client whose process died reconnects through nginx and lands on a
    live one; nothing about the failure (no token) reaches nginx's logs."""
    cluster = disposable_cluster
    with running_nginx(cluster.servers, tmp_path, cluster.env) as front:
        me = front.register()
        path = f"/ws/notifications/{me.user_id}"
        dead = cluster.servers[1]
        cluster.kill(dead)
        for attempt in range(6):
            async with front.connect(path, me.token) as ws:
                await ping(ws)
            status, _ = front.api("GET", "/api/notifications/", me.token)
            assert status == 200, attempt
        # The failover shows in the access log, without the query string.
        await wait_until(
            lambda: f"127.0.0.1:{dead.port}" in read(front.access_log_path),
            timeout=5,
            message=f"no failover logged:\n{read(front.access_log_path)}",
        )
    for log in (front.access_log_path, front.error_log_path):
        text = read(log)
        assert "token=" not in text and me.token not in text, f"{log.name} holds a token:\n{text}"
