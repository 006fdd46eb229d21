"""Multiplex benchmark: what one `/ws/` connection per tab costs the server,
against the single-stream endpoints and the raw loop.

    .venv/bin/python -m bench.multiplex [--tabs 1000] [--subscribers 5000] [--storm 10000]
        [--rounds 8] [--repeats 2] [--memory-rounds 2] [--storm-concurrency 0]
        [--clients-processes 2] [--redis [--trigger like|publish]]
        [--sections memory broadcast storm] [--out docs/benchmarks]

Servers are bench/fanout.py's (its `Server`: the product under its entry
point, or bench.rawloop, alone on CPU 0, DEBUG off, a fresh SQLite
database), and so are the single-stream clients (bench/wsload.py) and the
broadcast rounds (`rounds_of`); the tabs are bench/muxload.py's. The users
(one per tab, each with its REST token, all following one author) are made
in one `manage.py shell` call, as fanout.py makes its own.

1. Memory per idle tab: `--tabs` signed-in tabs, each ONE `/ws/` connection
   holding notifications/<own id>, feed/<own id>, trending and 10
   engagement/<tweet> (from a pool of 200 tweets, so tabs share some);
   server RSS after minus before, / tabs. Against the same users holding
   the same 13 streams as 13 single-stream sockets each (token on all of
   them, as a browser's cookie would be). Each measurement on a fresh
   server process, warmed by a few tabs and sockets of both kinds first,
   in the order A B B A ... (`--memory-rounds` of each).
2. Broadcast: `--subscribers` anonymous `/ws/` connections subscribed to
   engagement/<tweet>, against as many /ws/engagement/<tweet> sockets and
   as many raw-loop sockets; `--rounds` messages each (a REST like or
   unlike; the raw loop's /broadcast), sides in turn, the order reversed
   every other repeat. Server CPU (user+system from /proc) per delivered
   message and the time until all received.
3. Reconnect storm: `--storm` tabs (one user each) holding
   notifications/<id> and feed/<id> with `since`, trending and 5
   engagement/<tweet>, connected, then all dropped at once; while they are
   away each user gets 2 notifications and the author they follow posts
   a tweet; then every tab reconnects at the same moment. Figures: tabs
   set up, refused, retried, replays checked (each tab's notifications
   replay must be exactly its new notifications, in order, and its feed
   replay exactly the new tweet), time until the last tab was set up,
   subscribes a second, server CPU per subscribe (its handshake included).

Writes <out>/multiplex.json.
"""

import argparse
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from bench.fanout import (
    REPO_ROOT,
    LoadGenerator,
    Redis,
    Server,
    clients,
    cpu_split,
    http,
    machine,
    memory_per_connection,
    percentile,
    rounds_of,
)
from bench.muxload import tab_process

ENGAGEMENT_PER_TAB = 10
ENGAGEMENT_PER_STORM_TAB = 5
TWEET_POOL = 200
MISSED_PER_TAB = 2
WARM_USERS = 10
# As fanout.py spaces its rounds: a like is followed by at most one more
# engagement_update per REALTIME_ENGAGEMENT_COALESCE_SECONDS (1 s).
SPACING = {"multiplexed": 1.2, "single-stream": 1.2, "raw": 0.3}
# The limits the servers run with, and why (printed with the figures).
LIMITS = {
    "REALTIME_MAX_CONNECTIONS_PER_USER": (
        None,
        "the product's default (20): a user here holds one tab, or 2 counted single-stream sockets",
    ),
    "REALTIME_MAX_SOCKETS_PER_ADDRESS": ("1000000", "lifted: every client connects from 127.0.0.1"),
    "REALTIME_HANDSHAKES_PER_SECOND": ("1000000", "lifted: every client connects from 127.0.0.1"),
    "REALTIME_HANDSHAKES_BURST": ("1000000", "lifted: every client connects from 127.0.0.1"),
    "REALTIME_SUBSCRIBES_PER_SECOND": (
        None,
        "the product's default (50/s, burst 200, per connection): a tab subscribes to 13 at most",
    ),
    "REALTIME_SUBSCRIBES_BURST": (None, "the product's default"),
    "API_WRITE_RATE": ("10000000/minute", "lifted: the broadcast rounds like through REST"),
    "REALTIME_ADMISSIONS_PER_SECOND": (
        "0",
        "waiting room off for memory and broadcast (they measure idle tabs and fan-out); "
        "the storm runs with the product's default",
    ),
}

PREPARE = r"""
import json, secrets
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import Max
from rest_framework.authtoken.models import Token
from feed.models import Follow, Tweet
from notifications.models import Notification
User = get_user_model()
n, pool = %d, %d
password = make_password(None)
author = User.objects.create(username="mux_author", password=password)
liker = User.objects.create(username="mux_liker", password=password)
User.objects.bulk_create([User(username=f"mux_tab{i}", password=password) for i in range(n)])
tabs = list(User.objects.filter(username__startswith="mux_tab").order_by("id"))
Token.objects.bulk_create([Token(user=u, key=secrets.token_hex(20)) for u in [author, liker, *tabs]])
Follow.objects.bulk_create([Follow(follower=u, followee=author) for u in tabs])
Tweet.objects.bulk_create([Tweet(author=author, content=f"on screen {i}") for i in range(pool)])
tweets = list(Tweet.objects.order_by("id").values_list("id", flat=True))
tokens = dict(Token.objects.values_list("user_id", "key"))
print(json.dumps({
    "tweets": tweets,
    "liker": [liker.pk, tokens[liker.pk]],
    "users": [[u.pk, tokens[u.pk]] for u in tabs],
    "notifications_since": Notification.objects.aggregate(m=Max("id"))["m"] or 0,
    "feed_since": tweets[-1],
}))
"""

# What the storm's tabs miss while away: rows written straight to the
# database (bulk_create: no broadcast, nobody is connected to hear one),
# which is all a replay reads.
MISS = r"""
import json
from django.contrib.auth import get_user_model
from feed.models import Tweet
from notifications.models import Notification
User = get_user_model()
users, per_user, since, liker_id = json.loads(%r)
author = User.objects.get(username="mux_author")
kinds = [Notification.Type.MENTION, Notification.Type.FOLLOW]
Notification.objects.bulk_create([
    Notification(recipient_id=u, actor_id=liker_id, type=kinds[k %% 2])
    for u in users for k in range(per_user)
])
missed = {}
rows = Notification.objects.filter(id__gt=since).order_by("id")
for recipient, pk in rows.values_list("recipient_id", "id"):
    missed.setdefault(str(recipient), []).append(str(pk))
tweet, = Tweet.objects.bulk_create([Tweet(author=author, content="posted while you were away")])
tweet_id = tweet.pk or Tweet.objects.filter(author=author).order_by("-id").values_list("id", flat=True)[0]
print(json.dumps({"notifications": missed, "tweet": str(tweet_id)}))
"""


# --- Servers and clients ---------------------------------------------------------


def product_server(workdir: Path, name: str, database: Path, redis: Redis | None) -> Server:
    server = Server("product-redis" if redis else "product-embedded", workdir, redis)
    server.log_path = workdir / f"{name}.log"
    server.env["DATABASE_URL"] = f"sqlite:///{database}"
    for key, (value, _) in LIMITS.items():
        if value is None:
            server.env.pop(key, None)
        else:
            server.env[key] = value
    return server


def raw_server(workdir: Path) -> Server:
    server = Server("raw", workdir, None)
    server.log_path = workdir / "raw.log"
    return server


class TabLoadGenerator(LoadGenerator):
    """Tabs (bench/muxload.py) in `processes` processes on the load CPUs;
    fanout.py's commands (mark, wait, report, close) work as for its clients.
    With `open_now` false they connect only when `open_all` is called."""

    def __init__(self, port: int, specs: list[dict], processes: int, open_now: bool = True):
        self.paths = specs
        _, load_cpus = cpu_split()
        context = multiprocessing.get_context("fork")
        self.pipes, self.processes, self.sizes = [], [], []
        for chunk in (specs[i::processes] for i in range(processes)):
            if not chunk:
                continue
            self.sizes.append(len(chunk))
            parent, child = context.Pipe()
            process = context.Process(
                target=tab_process, args=(child, "127.0.0.1", port, chunk, set(load_cpus)), daemon=True
            )
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)
        self.retries = 0
        if open_now:
            self.open_all(200)

    def open_all(self, concurrency: int | None) -> None:
        """Have every process connect its tabs (all at once if `concurrency` is None)."""
        for pipe, size in zip(self.pipes, self.sizes):
            pipe.send(("open", concurrency or size))

    def opened(self, timeout: float = 600) -> tuple[int, list[str]]:
        total, failures, self.retries = 0, [], 0
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise TimeoutError("a tab process did not finish opening")
            _, n, failed, retries = pipe.recv()
            total += n
            failures += failed
            self.retries += retries
        return total, failures

    def tabs(self) -> list[dict]:
        return [tab for answer in self._all(("tabs",)) for tab in answer[1]]

    def drop(self) -> None:
        self._all(("drop",))


@contextmanager
def tabs_of(server: Server, specs: list[dict], processes: int, open_now: bool = True):
    generator = TabLoadGenerator(server.port, specs, processes, open_now)
    try:
        yield generator
    finally:
        generator.close()


def subscribe(stream: str, since=None) -> dict:
    message = {"type": "subscribe", "stream": stream}
    if since is not None:
        message["since"] = str(since)
    return message


def watched(data: dict, i: int, k: int) -> list[int]:
    """The `k` tweets tab `i` shows: neighbours in the pool, tabs overlapping."""
    pool = data["tweets"]
    return [pool[(i * 3 + j) % len(pool)] for j in range(k)]


def tab_spec(data: dict, i: int, engagement: int, resume: bool) -> dict:
    uid, token = data["users"][i]
    since_n = data["notifications_since"] if resume else None
    since_f = data["feed_since"] if resume else None
    return {
        "user": str(uid),
        "path": f"/ws/?token={token}",
        "subscribe": [
            subscribe(f"notifications/{uid}", since_n),
            subscribe(f"feed/{uid}", since_f),
            subscribe("trending"),
            *(subscribe(f"engagement/{t}") for t in watched(data, i, engagement)),
        ],
    }


def single_paths(data: dict, i: int) -> list[str]:
    """Tab `i`'s 13 streams as single-stream sockets."""
    uid, token = data["users"][i]
    return [
        f"/ws/notifications/{uid}?token={token}",
        f"/ws/feed/{uid}?token={token}",
        f"/ws/trending?token={token}",
        *(f"/ws/engagement/{t}?token={token}" for t in watched(data, i, ENGAGEMENT_PER_TAB)),
    ]


def connections(server: Server) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/ws/stats", timeout=30) as response:
        return json.loads(response.read())["total_connections"]


def wait_for_no_connections(server: Server, timeout: float = 120) -> float:
    started = time.monotonic()
    while connections(server) and time.monotonic() - started < timeout:
        time.sleep(0.2)
    return time.monotonic() - started


# --- 1. Memory per idle tab ------------------------------------------------------


def memory(args, data: dict, workdir: Path, database: Path, redis: Redis | None) -> dict:
    tabs = args.tabs
    warm = range(len(data["users"]) - WARM_USERS, len(data["users"]))
    # The single-stream side needs 13 sockets a tab on each side of the
    # loopback: past what the descriptor limit leaves, a sample of users.
    sample = min(tabs, max(1, (args.fd_limit - 2000) // 13))
    sides = {
        "multiplexed": [tab_spec(data, i, ENGAGEMENT_PER_TAB, False) for i in range(tabs)],
        "single-stream": [path for i in range(sample) for path in single_paths(data, i)],
    }
    order = []
    for r in range(args.memory_rounds):
        order += ["multiplexed", "single-stream"] if r % 2 == 0 else ["single-stream", "multiplexed"]
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    for k, side in enumerate(order):
        server = product_server(workdir, f"memory-{k}-{side}", database, redis)
        server.start()
        try:
            with tabs_of(server, [tab_spec(data, i, ENGAGEMENT_PER_TAB, False) for i in warm], 1) as g:
                g.opened()
            with clients(server, [p for i in warm for p in single_paths(data, i)], 1) as g:
                g.opened()
            wait_for_no_connections(server)
            time.sleep(0.5)
            before = server.rss_kb()
            started = time.monotonic()
            if side == "multiplexed":
                context = tabs_of(server, sides[side], args.clients_processes)
            else:
                context = clients(server, sides[side], args.clients_processes)
            with context as generator:
                opened, failures = generator.opened()
                seconds = time.monotonic() - started
                grown = memory_per_connection(server, before)
                users = opened if side == "multiplexed" else opened / 13
                run = {
                    "tabs": round(users, 1),
                    "sockets": opened,
                    "failed": len(failures),
                    "connect_seconds": round(seconds, 2),
                    "rss_before_mb": round(before / 1024, 1),
                    "rss_growth_mb": round(grown / 1024, 2),
                    "kb_per_tab": round(grown / max(users, 1), 2),
                    "kb_per_socket": round(grown / max(opened, 1), 2),
                }
                if failures:
                    run["failure_examples"] = sorted(set(failures))[:3]
        finally:
            server.stop()
        runs[side].append(run)
        print(f"  memory {side}: {json.dumps(run)}", flush=True)
    result = {
        "tabs": tabs,
        "single_stream_sample_tabs": sample,
        "order": order,
        "runs": runs,
        "kb_per_tab": {side: median([r["kb_per_tab"] for r in rs]) for side, rs in runs.items()},
    }
    result["ratio_multiplexed_to_single"] = ratio(
        result["kb_per_tab"]["multiplexed"], result["kb_per_tab"]["single-stream"]
    )
    return result


# --- 2. Broadcast ----------------------------------------------------------------


def layer_publisher(redis_url: str, tweet_id: int):
    """A trigger publishing one engagement_update to the tweet's watchers
    through Redis as another process's group_send would (fanout.py's
    worker_publisher, with the product's own message builder: `/ws/`
    delivers only messages that name their stream)."""
    import redis as redis_client
    from channels_redis.pubsub import RedisPubSubChannelLayer

    from engagement.groups import tweet_watchers
    from realtime_project.realtime.events.broadcast import stream_message
    from realtime_project.realtime.streams.names import stream_of

    group = tweet_watchers(tweet_id)
    data = {
        "tweet_id": str(tweet_id),
        "engagement": {"likes": 1, "replies": 0, "retweets": 0, "bookmarks": 0},
    }
    message = RedisPubSubChannelLayer(hosts=[redis_url]).serialize(
        stream_message("engagement_update", data, stream=stream_of(group))
    )
    client = redis_client.Redis.from_url(redis_url)

    def trigger():
        client.publish(f"asgi__group__{group}", message)

    return trigger


def broadcast(args, data: dict, workdir: Path, database: Path, redis: Redis | None) -> dict:
    s = args.subscribers
    tweet = data["tweets"][0]
    product = product_server(workdir, "broadcast", database, redis)
    raw = raw_server(workdir)
    base = f"http://127.0.0.1:{product.port}"
    liker_token = data["liker"][1]
    flip = {"on": False}

    def like():
        flip["on"] = not flip["on"]
        http("POST" if flip["on"] else "DELETE", f"{base}/api/tweets/{tweet}/like/", liker_token)

    def raw_broadcast():
        with socket.create_connection(("127.0.0.1", raw.port)) as sock:
            sock.sendall(b"GET /broadcast HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.recv(100)

    product_trigger = like
    if redis is not None and args.trigger == "publish":
        product_trigger = layer_publisher(redis.url, tweet)

    def connect(side: str):
        if side == "multiplexed":
            specs = [{"path": "/ws/", "subscribe": [subscribe(f"engagement/{tweet}")]} for _ in range(s)]
            return product, product_trigger, tabs_of(product, specs, args.clients_processes)
        if side == "single-stream":
            return (
                product,
                product_trigger,
                clients(product, [f"/ws/engagement/{tweet}"] * s, args.clients_processes),
            )
        return raw, raw_broadcast, clients(raw, ["/ws/watch"] * s, args.clients_processes)

    sides = ["multiplexed", "single-stream", "raw"]
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    product.start()
    raw.start()
    try:
        for r in range(args.repeats):
            for side in sides if r % 2 == 0 else sides[::-1]:
                server, trigger, context = connect(side)
                with context as generator:
                    opened, failures = generator.opened()
                    spacing = SPACING[side] if trigger is like else SPACING["raw"]
                    figures = rounds_of(generator, server, trigger, args.rounds, spacing)
                figures.update(connected=opened, failed_handshakes=len(failures))
                runs[side].append(figures)
                print(
                    f"  broadcast {side}: all received p50 {figures['all_received_ms']['p50']} ms, "
                    f"server CPU {figures['server_cpu_us_per_message']} us/receiver "
                    f"(net of idle {figures['server_cpu_us_per_message_net']}), "
                    f"{opened} connected, {len(failures)} failed, {figures['lost']} lost",
                    flush=True,
                )
                if server is product:
                    wait_for_no_connections(server)
    finally:
        product.stop()
        raw.stop()
    summary = {
        side: {
            "all_received_ms_p50": median([f["all_received_ms"]["p50"] for f in fs]),
            "server_cpu_us_per_receiver": median([f["server_cpu_us_per_message"] for f in fs]),
            "server_cpu_us_per_receiver_net": median([f["server_cpu_us_per_message_net"] for f in fs]),
            "server_write_ms": median([(f["server_write_ms"] or {}).get("mean") for f in fs]),
            "lost": sum(f["lost"] for f in fs),
        }
        for side, fs in runs.items()
    }
    return {
        "subscribers": s,
        "trigger": "REST like/unlike"
        if product_trigger is like
        else "published into Redis by another process",
        "rounds": args.rounds,
        "repeats": args.repeats,
        "runs": runs,
        "median": summary,
        "cpu_ratio_multiplexed_to_single": ratio(
            summary["multiplexed"]["server_cpu_us_per_receiver"],
            summary["single-stream"]["server_cpu_us_per_receiver"],
        ),
        "cpu_net_ratio_multiplexed_to_single": ratio(
            summary["multiplexed"]["server_cpu_us_per_receiver_net"],
            summary["single-stream"]["server_cpu_us_per_receiver_net"],
        ),
        "all_received_ratio_multiplexed_to_raw": ratio(
            summary["multiplexed"]["all_received_ms_p50"], summary["raw"]["all_received_ms_p50"]
        ),
        "server_write_ratio_multiplexed_to_raw": ratio(
            summary["multiplexed"]["server_write_ms"], summary["raw"]["server_write_ms"]
        ),
        "all_received_ratio_single_to_raw": ratio(
            summary["single-stream"]["all_received_ms_p50"], summary["raw"]["all_received_ms_p50"]
        ),
    }


# --- 3. Reconnect storm ----------------------------------------------------------


def storm(args, data: dict, workdir: Path, database: Path, redis: Redis | None) -> dict:
    t = args.storm
    specs = [tab_spec(data, i, ENGAGEMENT_PER_STORM_TAB, True) for i in range(t)]
    per_tab = len(specs[0]["subscribe"])
    server = product_server(workdir, "storm", database, redis)
    # The storm is what the waiting room is for: the product's default.
    server.env.pop("REALTIME_ADMISSIONS_PER_SECOND", None)
    server.start()
    result: dict = {"tabs": t, "subscriptions_per_tab": per_tab}
    try:
        with tabs_of(server, specs, args.clients_processes, open_now=False) as generator:
            started = time.monotonic()
            generator.open_all(200)
            opened, failures = generator.opened()
            result["first_connect"] = {
                "set_up": opened,
                "failed": len(failures),
                "seconds": round(time.monotonic() - started, 2),
                "unexpected_replays": sum(1 for tab in generator.tabs() if any(tab["ids"].values())),
            }
            print(f"  storm, first connect: {json.dumps(result['first_connect'])}", flush=True)
            generator.drop()
            result["server_noticed_drop_seconds"] = round(wait_for_no_connections(server), 2)
            users = [int(spec["user"]) for spec in specs]
            missed = json.loads(
                server.manage(
                    "shell",
                    stdin=MISS
                    % json.dumps([users, MISSED_PER_TAB, data["notifications_since"], data["liker"][0]]),
                )
                .strip()
                .splitlines()[-1]
            )
            time.sleep(1.0)
            cpu_before = server.cpu_seconds()
            go = time.monotonic()
            generator.open_all(args.storm_concurrency or None)
            opened, failures = generator.opened()
            cpu = server.cpu_seconds() - cpu_before
            tabs = generator.tabs()
        result.update(storm_figures(tabs, specs, missed, go, cpu, opened, failures, generator.retries))
    finally:
        server.stop()
    return result


def storm_figures(tabs, specs, missed, go, cpu, opened, failures, retries) -> dict:
    done = [tab["done_at"] - go for tab in tabs if tab.get("done_at") is not None]
    wrong = []
    for tab in tabs:
        if tab.get("done_at") is None:
            continue
        uid = tab["user"]
        got_n = tab["ids"].get(f"notifications/{uid}", [])
        got_f = tab["ids"].get(f"feed/{uid}", [])
        if got_n != missed["notifications"].get(uid, []) or got_f != [missed["tweet"]]:
            wrong.append({"user": uid, "notifications": got_n, "feed": got_f})
    subscribes = sum(len(spec["subscribe"]) for spec in specs)
    total = max(done) if done else None
    with_errors = [tab for tab in tabs if tab.get("errors")]
    return {
        "set_up": opened,
        "refused_or_failed": len(failures),
        "failure_examples": sorted(set(failures))[:3],
        "retried_connections": retries,
        "tabs_sent_to_wait": sum(1 for tab in tabs if tab.get("waited")),
        "waits": sum(tab.get("waited", 0) for tab in tabs),
        "tabs_with_subscribe_errors": len(with_errors),
        "subscribe_error_examples": sorted({e for tab in with_errors for e in tab["errors"]})[:3],
        "replays_checked": len(done),
        "replays_wrong": len(wrong),
        "replay_wrong_examples": wrong[:3],
        "missed_notifications": sum(len(missed["notifications"].get(spec["user"], [])) for spec in specs),
        "all_done_seconds": round(total, 2) if total else None,
        "done_p50_seconds": round(percentile(done, 50), 2) if done else None,
        "done_p99_seconds": round(percentile(done, 99), 2) if done else None,
        "subscribes": subscribes,
        "subscribes_per_second": round(subscribes / total) if total else None,
        "server_cpu_seconds": round(cpu, 2),
        "server_cpu_us_per_subscribe": round(cpu / subscribes * 1e6, 1),
        "server_cpu_ms_per_tab": round(cpu / len(specs) * 1e3, 2),
    }


# --- Report ----------------------------------------------------------------------


def median(values: list) -> float | None:
    values = [v for v in values if v is not None and v == v]
    return round(statistics.median(values), 2) if values else None


def ratio(a, b) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def verdict(value, goal: float) -> str:
    if value is None:
        return "n/a"
    return f"{value} ({'meets' if value <= goal else 'misses'} goal <= {goal})"


def summary(report: dict) -> str:
    lines = ["Server limits for these runs:"]
    lines += [f"  {key}={value or '(default)'}: {why}" for key, (value, why) in LIMITS.items()]
    if "memory" in report:
        m = report["memory"]
        kb = m["kb_per_tab"]
        lines += [
            "",
            f"1. Memory per idle tab ({m['tabs']} tabs; single-stream side: "
            f"{m['single_stream_sample_tabs']} tabs x 13 sockets"
            f"{', scaled per tab' if m['single_stream_sample_tabs'] < m['tabs'] else ''}; "
            f"median of {len(m['order']) // 2} fresh servers each, order {' '.join(m['order'])}):",
            f"   one /ws/ connection, 13 subscriptions: {verdict(kb['multiplexed'], 24)} KB",
            f"   13 single-stream sockets:              {kb['single-stream']} KB",
            f"   ratio multiplexed / single-stream:     {m['ratio_multiplexed_to_single']}",
        ]
    if "broadcast" in report:
        b = report["broadcast"]
        med = b["median"]
        lines += [
            "",
            f"2. Broadcast to {b['subscribers']} subscribers of one tweet "
            f"({b['rounds']} rounds x {b['repeats']} repeats per side, medians; product sides "
            f"triggered by {b['trigger']}, the raw loop by its /broadcast):",
        ]
        for side in ("multiplexed", "single-stream", "raw"):
            lines.append(
                f"   {side:14} all received p50 {med[side]['all_received_ms_p50']} ms, "
                f"server CPU {med[side]['server_cpu_us_per_receiver']} us/receiver "
                f"(net of idle {med[side]['server_cpu_us_per_receiver_net']}), "
                f"server wrote all in {med[side]['server_write_ms']} ms, lost {med[side]['lost']}"
            )
        lines += [
            f"   CPU per receiver, multiplexed / single-stream: "
            f"{verdict(b['cpu_ratio_multiplexed_to_single'], 1.1)} (net of idle: "
            f"{b['cpu_net_ratio_multiplexed_to_single']})",
            "   all received, multiplexed / raw loop: "
            f"{verdict(b['all_received_ratio_multiplexed_to_raw'], 1.1)}"
            f" (single-stream / raw loop: {b['all_received_ratio_single_to_raw']}; server's write "
            f"pass, multiplexed / raw loop: {b['server_write_ratio_multiplexed_to_raw']})",
        ]
    if "storm" in report:
        s = report["storm"]
        lines += [
            "",
            f"3. Reconnect storm: {s['tabs']} tabs x {s['subscriptions_per_tab']} subscriptions "
            f"(2 resumed with since), all at once to one process:",
            f"   set up {s['set_up']}, refused or failed {s['refused_or_failed']}, "
            f"retried connections {s['retried_connections']}, tabs with subscribe errors "
            f"{s['tabs_with_subscribe_errors']}",
            f"   sent to the waiting room (reconnect, then 1013): {s.get('tabs_sent_to_wait', 0)} tabs, "
            f"{s.get('waits', 0)} times in all",
            f"   replays: {s['replays_checked']} checked, {s['replays_wrong']} wrong "
            f"({s['missed_notifications']} notifications and 1 tweet missed while away)",
            f"   all done in {verdict(s['all_done_seconds'], 15)} s (p50 {s['done_p50_seconds']} s, "
            f"p99 {s['done_p99_seconds']} s); {s['subscribes_per_second']} subscribes/s; "
            f"server CPU {s['server_cpu_us_per_subscribe']} us per subscribe, handshake included "
            f"({s['server_cpu_ms_per_tab']} ms per tab)",
        ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tabs", type=int, default=1000)
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--storm", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=8, help="broadcast messages per side and repeat")
    parser.add_argument("--repeats", type=int, default=2, help="broadcast passes over the three sides")
    parser.add_argument("--memory-rounds", type=int, default=2, help="fresh servers per memory side")
    parser.add_argument(
        "--storm-concurrency",
        type=int,
        default=0,
        help="connections a client process opens at once in the storm (0: all)",
    )
    parser.add_argument("--clients-processes", type=int, default=2)
    parser.add_argument("--redis", action="store_true", help="RedisPubSubChannelLayer on a private redis")
    parser.add_argument(
        "--trigger",
        choices=["like", "publish"],
        default="like",
        help="what makes a product broadcast: a REST like, or (--redis) a message another process publishes",
    )
    parser.add_argument(
        "--sections",
        nargs="+",
        default=["memory", "broadcast", "storm"],
        choices=["memory", "broadcast", "storm"],
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks")
    args = parser.parse_args(argv)
    if args.trigger == "publish" and not args.redis:
        parser.error("--trigger publish needs --redis")
    import resource

    args.fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    workdir = Path(tempfile.mkdtemp(prefix="bench-multiplex-"))
    print(f"work folder (server logs): {workdir}", flush=True)
    database = workdir / "db.sqlite3"
    redis = Redis(workdir) if args.redis else None
    report = {
        "command": "python -m bench.multiplex " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "layer": "redis" if redis else "in-memory",
        "limits": {key: value or "(default)" for key, (value, _) in LIMITS.items()},
    }
    try:
        setup = product_server(workdir, "setup", database, redis)
        setup.manage("migrate", "--noinput")
        users = max(args.tabs, args.storm) + WARM_USERS
        started = time.monotonic()
        data = json.loads(setup.manage("shell", stdin=PREPARE % (users, TWEET_POOL)).strip().splitlines()[-1])
        print(f"  {users} users and {TWEET_POOL} tweets in {time.monotonic() - started:.1f} s", flush=True)
        for section in ("memory", "broadcast", "storm"):
            if section in args.sections:
                print(f"{section}:", flush=True)
                report[section] = globals()[section](args, data, workdir, database, redis)
    finally:
        if redis is not None:
            redis.stop()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "multiplex.json").write_text(json.dumps(report, indent=1) + "\n")
    print(summary(report))
    print(f"wrote {args.out / 'multiplex.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
