"""Fan-out benchmark: how fast and how cheaply the server delivers.

    .venv/bin/python -m bench.fanout [--sizes 1000 5000 10000] [--rounds 8]
        [--targets product-embedded product-redis naive-embedded naive-redis raw]
        [--rates 1000 2000 5000 10000 20000] [--clients-processes 2]
        [--out docs/benchmarks] [--quick]

(`make bench` runs it with its defaults; `--quick` is a 1-minute smoke run.)

Each target is a server started here, alone on CPU 0 (`taskset`), with the
load generator (bench/wsload.py: N bare WebSocket clients over
--clients-processes processes) and this controller on the other CPUs:

- product-embedded / product-redis: this project under Daphne, with the
  in-memory layer / a private redis-server (RedisPubSubChannelLayer).
- naive-embedded / naive-redis: the naive Channels pattern (bench/naive_asgi.py):
  a stock consumer per connection and a stock group_send, Daphne, Channels'
  own in-memory layer / RedisPubSubChannelLayer.
- raw: a hand-written asyncio loop writing one pre-encoded frame to every
  socket (bench/rawloop.py), the floor.

Measured for each N:
- memory per idle connection: server RSS after N connections minus before, / N;
- broadcast: one message to all N (product: a REST like on a tweet all N
  watch, an `engagement_update`; naive and raw: their /broadcast trigger),
  repeated --rounds times: the time until all N received it (p50/max over
  rounds), per-receiver latency (p50/p99/max over all), and the server's CPU
  time (user+system, from /proc) per delivered message;
- feed fan-out (product): an author whose N followers have their feed open
  posts through REST; the time until all N have the tweet;
- targeted (redis targets): N clients on N distinct users' streams; messages
  published into the channel layer (as a worker process would) to random
  users at rising rates; the highest rate with p99 < 100 ms and none lost;
- action to screen (product): REST post mentioning a user -> that user's
  notifications socket, 30 times.

The load generator's own ceiling is reported from the raw target (its
server costs little, so its all-received time is mostly the clients'), and
from the clients' CPU time per message they received.

Writes <out>/fanout.json and <out>/fanout.png (latency and CPU against N).
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from bench.wsload import client_process

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGETS = ("product-embedded", "product-redis", "naive-embedded", "naive-redis", "raw")
# A product like is followed by at most one more engagement_update per
# REALTIME_ENGAGEMENT_COALESCE_SECONDS (1 s): rounds are spaced past it.
ROUND_SPACING = {"product": 1.2, "naive": 0.3, "raw": 0.3}
PREPARE = r"""
import json, secrets
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from rest_framework.authtoken.models import Token
from feed.models import Follow, Tweet
User = get_user_model()
n = %d
password = make_password(None)
author = User.objects.create(username="bench_author", password=password)
liker = User.objects.create(username="bench_liker", password=password)
fans = User.objects.bulk_create([User(username=f"bench_fan{i}", password=password) for i in range(n)])
fans = list(User.objects.filter(username__startswith="bench_fan").order_by("id"))
Token.objects.bulk_create([Token(user=u, key=secrets.token_hex(20)) for u in [author, liker, *fans]])
Follow.objects.bulk_create([Follow(follower=u, followee=author) for u in fans])
tweet = Tweet.objects.create(author=author, content="watched by everyone")
tokens = dict(Token.objects.values_list("user_id", "key"))
print(json.dumps({
    "tweet_id": tweet.pk,
    "author": [author.pk, author.username, tokens[author.pk]],
    "liker": [liker.pk, liker.username, tokens[liker.pk]],
    "fans": [[u.pk, tokens[u.pk]] for u in fans],
}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def http(method: str, url: str, token: str | None = None, body: dict | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        return response.status


# --- Processes ----------------------------------------------------------------


def cpu_split() -> tuple[list[int], list[int]]:
    """(server CPUs, load CPUs): the server alone on the first CPU when there are two or more."""
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[:1], cpus[1:]) if len(cpus) > 1 else (cpus, cpus)


class Redis:
    def __init__(self, workdir: Path):
        self.port = free_port()
        binary = shutil.which("redis-server")
        if not binary:
            sys.exit("redis-server is missing (make bench installs it)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            cwd=workdir,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


class Server:
    """One server process of a target, pinned to the server CPU."""

    def __init__(self, target: str, workdir: Path, redis: Redis | None):
        self.target = target
        self.kind = target.split("-")[0]
        self.port = free_port()
        self.workdir = workdir
        self.log_path = workdir / f"{target}.log"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "ALLOWED_HOSTS", "DATABASE_CONN_MAX_AGE")
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="realtime_project.settings",
            # As in production (deploy/README.md): with DEBUG on, Django logs
            # every query (on SQLite with one more query each to quote it)
            # and keeps the last 9,000 in memory.
            DEBUG="false",
            SECRET_KEY="bench-only-" + "x" * 50,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=f"sqlite:///{workdir / (target + '.sqlite3')}",
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="WARNING",
            # One bench client connects many sockets for one user, and the
            # controller's REST calls come fast.
            REALTIME_MAX_CONNECTIONS_PER_USER="100000",
            API_WRITE_RATE="10000000/minute",
            # Every bench client connects from 127.0.0.1.
            REALTIME_MAX_SOCKETS_PER_ADDRESS="1000000",
            REALTIME_HANDSHAKES_PER_SECOND="1000000",
            REALTIME_HANDSHAKES_BURST="1000000",
            # No waiting room: the clients connect as fast as they can, and
            # what is measured is the connections once open.
            REALTIME_ADMISSIONS_PER_SECOND="0",
        )
        if redis is not None:
            self.env["REDIS_URL"] = redis.url
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def start(self) -> None:
        server_cpus, _ = cpu_split()
        pin = ["taskset", "-c", ",".join(map(str, server_cpus))] if shutil.which("taskset") else []
        if self.kind == "raw":
            command = [sys.executable, "-m", "bench.rawloop", str(self.port)]
        else:
            app = (
                "realtime_project.asgi:application"
                if self.kind == "product"
                else "bench.naive_asgi:application"
            )
            # Daphne's listen backlog is 50 unless the endpoint says otherwise.
            endpoint = f"tcp:port={self.port}:interface=127.0.0.1:backlog=4096"
            # The product through its entry point; naive Channels as stock Daphne runs it.
            server = (
                [sys.executable, "-m", "realtime_project.realtime.server"]
                if self.kind == "product"
                else [str(BIN / "daphne")]
            )
            command = [*server, "-e", endpoint, app]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                pin + command, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.target} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if self.kind == "raw":
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                    return
                if http("GET", f"http://127.0.0.1:{self.port}/ws/stats") == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.target} did not start")

    @property
    def pid(self) -> int:
        # taskset execs the command: the pid is the server's.
        return self.process.pid

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def fanout_writes(self) -> tuple[int, float] | None:
        """(count, seconds) of realtime_fanout_write_seconds: how many group
        messages the server wrote to two or more sockets, and how long its
        writing took, from the first write to the last (the product and the
        loop; naive Channels has no such figure)."""
        if self.kind == "naive":
            return None
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=30) as response:
            text = response.read().decode()
        series = {}
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name in ("realtime_fanout_write_seconds_count", "realtime_fanout_write_seconds_sum"):
                series[name] = float(value)
        return int(series["realtime_fanout_write_seconds_count"]), series["realtime_fanout_write_seconds_sum"]

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class LoadGenerator:
    """N clients in `processes` processes on the load CPUs."""

    def __init__(self, port: int, paths: list[str], processes: int):
        self.paths = paths
        _, load_cpus = cpu_split()
        context = multiprocessing.get_context("fork")
        self.pipes, self.processes = [], []
        chunks = [paths[i::processes] for i in range(processes)]
        for chunk in chunks:
            if not chunk:
                continue
            parent, child = context.Pipe()
            process = context.Process(
                target=client_process,
                args=(child, "127.0.0.1", port, chunk, 200, set(load_cpus)),
                daemon=True,
            )
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    def opened(self) -> tuple[int, list[str]]:
        total, failures = 0, []
        for pipe in self.pipes:
            _, n, failed = pipe.recv()
            total += n
            failures += failed
        return total, failures

    def _all(self, command: tuple, timeout: float = 120) -> list:
        for pipe in self.pipes:
            pipe.send(command)
        answers = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise TimeoutError(f"a client process did not answer {command[0]}")
            answers.append(pipe.recv())
        return answers

    def mark(self) -> None:
        self._all(("mark",))

    def wait(self, k: int, timeout: float) -> bool:
        return all(answer[2] for answer in self._all(("wait", k, timeout), timeout + 10))

    def report(self) -> tuple[list[list[tuple[float, float | None]]], list[str]]:
        arrivals, lost = [], []
        for answer in self._all(("report",)):
            arrivals += answer[1]
            lost += answer[2]
        return arrivals, lost

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self.processes:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
        return total

    def close(self) -> None:
        try:
            self._all(("close",), timeout=30)
        except (TimeoutError, OSError, EOFError):
            pass
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.kill()


@contextmanager
def clients(server: Server, paths: list[str], processes: int):
    generator = LoadGenerator(server.port, paths, processes)
    try:
        yield generator
    finally:
        generator.close()


# --- Measurements ------------------------------------------------------------


def rounds_of(generator: LoadGenerator, server: Server, trigger, rounds: int, spacing: float) -> dict:
    """Trigger `rounds` messages to every client; latency and server CPU."""
    generator.mark()
    t0s, complete = [], 0
    # What the server spends with N idle connections (Daphne's timers walk
    # them all every second or two), over as long as the rounds take: the
    # "net" CPU per message leaves it out.
    idle_from, idle_cpu = time.monotonic(), server.cpu_seconds()
    time.sleep(min(10.0, rounds * spacing))
    idle_rate = (server.cpu_seconds() - idle_cpu) / (time.monotonic() - idle_from)
    writes_before = server.fanout_writes()
    cpu_before, load_before = server.cpu_seconds(), generator.cpu_seconds()
    started = time.monotonic()
    for k in range(1, rounds + 1):
        t0s.append(time.monotonic())
        trigger()
        if not generator.wait(k, timeout=60):
            break
        complete = k
        time.sleep(spacing)
    cpu = server.cpu_seconds() - cpu_before
    net_cpu = max(0.0, cpu - idle_rate * (time.monotonic() - started))
    load_cpu = generator.cpu_seconds() - load_before
    writes_after = server.fanout_writes()
    arrivals, lost = generator.report()
    n = len(arrivals)
    latencies, all_received = [], []
    for k, t0 in enumerate(t0s):
        times = [client[k][0] - t0 for client in arrivals if len(client) > k]
        latencies += times
        if len(times) == n:
            all_received.append(max(times))
    delivered = sum(min(len(client), len(t0s)) for client in arrivals)
    expected = n * len(t0s)
    return {
        "rounds": len(t0s),
        "complete_rounds": complete,
        "delivered": delivered,
        "lost": expected - delivered,
        "connections_lost": len(lost),
        "all_received_ms": {
            "p50": ms(percentile(all_received, 50)),
            "max": ms(max(all_received)) if all_received else None,
        },
        "latency_ms": {
            "p50": ms(percentile(latencies, 50)),
            "p99": ms(percentile(latencies, 99)),
            "max": ms(max(latencies)) if latencies else None,
        },
        "server_cpu_us_per_message": round(cpu / delivered * 1e6, 2) if delivered else None,
        "server_cpu_us_per_message_net": round(net_cpu / delivered * 1e6, 2) if delivered else None,
        "server_idle_cpu_percent": round(idle_rate * 100, 2),
        "client_cpu_us_per_message": round(load_cpu / delivered * 1e6, 2) if delivered else None,
        # The server's own time to write a round to all N sockets, which the
        # clients' speed does not bound (all_received_ms includes their
        # reading); "count" says how many fan-outs the mean is over. It
        # times what delivery writes at once: here every client is
        # subscribed and idle before the rounds, so that is all N (a
        # receiver with messages queued would be written later, untimed).
        "server_write_ms": fanout_write_mean(writes_before, writes_after),
    }


def fanout_write_mean(before: tuple[int, float] | None, after: tuple[int, float] | None) -> dict | None:
    if before is None or after is None or after[0] == before[0]:
        return None
    count = after[0] - before[0]
    return {"mean": ms((after[1] - before[1]) / count), "count": count}


def memory_per_connection(server: Server, before_kb: int) -> float:
    time.sleep(1.0)
    return server.rss_kb() - before_kb


async def inject(
    redis_url: str, groups: list[str], rate: int, seconds: float, kind: str
) -> tuple[int, float]:
    """Publish `rate` messages a second for `seconds` into the channel layer,
    each to a group of `groups` in turn; return (sent, seconds it took).

    Exactly what channels-redis' group_send publishes (same serializer, same
    channel names), pipelined every 5 ms: a worker process sending one
    group_send at a time tops out near 5,000 a second, below what is measured."""
    import redis.asyncio as aioredis
    from channels_redis.pubsub import RedisPubSubChannelLayer

    serialize = RedisPubSubChannelLayer(hosts=[redis_url]).serialize
    client = aioredis.Redis.from_url(redis_url)
    total = int(rate * seconds)
    batch = max(1, rate // 200)
    order = list(groups)
    random.Random(1).shuffle(order)
    started = time.monotonic()
    sent = 0
    while sent < total:
        delay = started + sent / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        async with client.pipeline(transaction=False) as pipe:
            for _ in range(min(batch, total - sent)):
                text = json.dumps(
                    {
                        "type": "notification",
                        "timestamp": "2026-01-01T00:00:00Z",
                        "data": {"notification_id": str(sent), "t0": time.monotonic()},
                    }
                )
                if kind == "product":
                    message = {
                        "type": "stream.event",
                        "kind": "notification",
                        "text": text,
                        "ids": [str(sent)],
                    }
                else:
                    message = {"type": "bench.message", "text": text}
                pipe.publish(f"asgi__group__{order[sent % len(order)]}", serialize(message))
                sent += 1
            await pipe.execute()
    took = time.monotonic() - started
    await client.aclose()
    return sent, took


def targeted(
    generator: LoadGenerator, server: Server, redis: Redis, groups: list[str], rates: list[int]
) -> list[dict]:
    results = []
    for rate in rates:
        generator.mark()
        cpu_before = server.cpu_seconds()
        sent, took = asyncio.run(inject(redis.url, groups, rate, 3.0, server.kind))
        time.sleep(3.0)
        cpu = server.cpu_seconds() - cpu_before
        arrivals, _ = generator.report()
        latencies = [arrived - t0 for client in arrivals for arrived, t0 in client if t0 is not None]
        received = len(latencies)
        result = {
            "rate": rate,
            "achieved_rate": round(sent / took),
            "sent": sent,
            "received": received,
            "lost": sent - received,
            "latency_ms": {
                "p50": ms(percentile(latencies, 50)),
                "p99": ms(percentile(latencies, 99)),
                "max": ms(max(latencies)) if latencies else None,
            },
            "server_cpu_us_per_message": round(cpu / received * 1e6, 2) if received else None,
        }
        results.append(result)
        print(f"    targeted {rate}/s: {json.dumps(result)}", flush=True)
        if result["lost"] or result["latency_ms"]["p99"] >= 100 or result["achieved_rate"] < 0.9 * rate:
            break
    return results


def worker_publisher(redis_url: str, tweet_id: int):
    """A trigger that publishes one engagement_update to the tweet's watchers
    through Redis, exactly as channels-redis' group_send from another
    process would."""
    import redis as redis_client
    from channels_redis.pubsub import RedisPubSubChannelLayer

    from engagement.groups import tweet_watchers

    serialize = RedisPubSubChannelLayer(hosts=[redis_url]).serialize
    client = redis_client.Redis.from_url(redis_url)
    text = json.dumps(
        {
            "type": "engagement_update",
            "timestamp": "2026-01-01T00:00:00Z",
            "data": {
                "tweet_id": str(tweet_id),
                "engagement": {"likes": 1, "replies": 0, "retweets": 0, "bookmarks": 0},
            },
        },
        separators=(",", ":"),
    )
    message = serialize({"type": "stream.event", "kind": "engagement_update", "text": text})
    channel = f"asgi__group__{tweet_watchers(tweet_id)}"

    def trigger():
        client.publish(channel, message)

    return trigger


def action_to_screen(server: Server, data: dict, samples: int = 30) -> dict:
    """REST post mentioning the author -> the author's notifications socket."""
    author_id, author_name, author_token = data["author"]
    _, _, liker_token = data["liker"]
    path = f"/ws/notifications/{author_id}?token={author_token}"
    base = f"http://127.0.0.1:{server.port}"
    with clients(server, [path], 1) as generator:
        generator.opened()
        generator.mark()
        starts = []
        for k in range(1, samples + 1):
            starts.append(time.monotonic())
            http("POST", base + "/api/tweets/", liker_token, {"content": f"@{author_name} look {k}"})
            generator.wait(k, 10)
        arrivals, _ = generator.report()
    times = [arrived - start for (arrived, _), start in zip(arrivals[0], starts)]
    return {
        "samples": len(times),
        "p50_ms": ms(percentile(times, 50)),
        "p99_ms": ms(percentile(times, 99)),
        "max_ms": ms(max(times)) if times else None,
    }


# --- One target ----------------------------------------------------------------


def run_target(target: str, sizes: list[int], args, workdir: Path) -> dict:
    kind = target.split("-")[0]
    redis = Redis(workdir) if target.endswith("redis") else None
    result = {"target": target, "sizes": {}}
    try:
        for n in sizes:
            print(f"  {target} N={n}", flush=True)
            server = Server(target, workdir / f"{target}-{n}", redis)
            server.workdir.mkdir(parents=True, exist_ok=True)
            server.log_path = server.workdir / "server.log"
            server.env["DATABASE_URL"] = f"sqlite:///{server.workdir / 'db.sqlite3'}"
            data = None
            if kind == "product":
                server.manage("migrate", "--noinput")
                data = json.loads(server.manage("shell", stdin=PREPARE % n).strip().splitlines()[-1])
            server.start()
            try:
                result["sizes"][str(n)] = figures = measure(server, kind, n, data, redis, args)
                print(f"    {json.dumps(figures)}", flush=True)
            finally:
                server.stop()
            if redis is not None:
                subprocess.run(["redis-cli", "-p", str(redis.port), "flushall"], capture_output=True)
    finally:
        if redis is not None:
            redis.stop()
    return result


def measure(server: Server, kind: str, n: int, data: dict | None, redis: Redis | None, args) -> dict:
    base = f"http://127.0.0.1:{server.port}"
    figures: dict = {}
    if kind == "product":
        paths = [f"/ws/engagement/{data['tweet_id']}"] * n
        liker_token = data["liker"][2]
        flip = {"on": False}

        def trigger():
            flip["on"] = not flip["on"]
            http(
                "POST" if flip["on"] else "DELETE", f"{base}/api/tweets/{data['tweet_id']}/like/", liker_token
            )
    else:
        paths = ["/ws/watch"] * n

        def trigger():
            if kind == "raw":
                with socket.create_connection(("127.0.0.1", server.port)) as sock:
                    sock.sendall(b"GET /broadcast HTTP/1.1\r\nHost: x\r\n\r\n")
                    sock.recv(100)
            else:
                http("GET", f"{base}/broadcast")

    # Warm up (imports, first connection), then the baseline memory.
    with clients(server, paths[:10], 1) as warm:
        warm.opened()
    time.sleep(0.5)
    rss_before = server.rss_kb()
    started = time.monotonic()
    with clients(server, paths, args.clients_processes) as generator:
        opened, failures = generator.opened()
        figures["connect_seconds"] = round(time.monotonic() - started, 2)
        figures["connected"] = opened
        figures["failed_handshakes"] = len(failures)
        if failures:
            figures["failure_examples"] = sorted(set(failures))[:3]
        grown = memory_per_connection(server, rss_before)
        figures["rss_mb"] = round(server.rss_kb() / 1024, 1)
        figures["memory_kb_per_connection"] = round(grown / max(opened, 1), 2)
        figures["broadcast"] = rounds_of(generator, server, trigger, args.rounds, ROUND_SPACING[kind])
        if kind == "product" and redis is not None:
            # The same update published by another process (a worker, or
            # the Daphne process that took the like): this server's share
            # of a broadcast alone, triggered as cheaply as the naive
            # and raw targets' /broadcast.
            publish = worker_publisher(redis.url, data["tweet_id"])
            figures["broadcast_from_worker"] = rounds_of(generator, server, publish, args.rounds, 0.3)
    if kind == "product":
        fans = data["fans"]
        feed_paths = [f"/ws/feed/{uid}?token={token}" for uid, token in fans]
        author_token = data["author"][2]
        counter = {"k": 0}

        def post():
            counter["k"] += 1
            http("POST", f"{base}/api/tweets/", author_token, {"content": f"news {counter['k']}"})

        if "feed" in args.phases:
            with clients(server, feed_paths, args.clients_processes) as generator:
                opened, failures = generator.opened()
                figures["feed_fanout"] = rounds_of(generator, server, post, max(3, args.rounds // 2), 0.3)
                figures["feed_fanout"].update(connected=opened, failed_handshakes=len(failures))
        if redis is not None and "targeted" in args.phases:
            with clients(
                server,
                [f"/ws/notifications/{uid}?token={token}" for uid, token in fans],
                args.clients_processes,
            ) as generator:
                opened, failures = generator.opened()
                from notifications.groups import user_notifications

                groups = [user_notifications(uid) for uid, _ in fans]
                figures["targeted_clients"] = {"connected": opened, "failed_handshakes": len(failures)}
                figures["targeted"] = targeted(generator, server, redis, groups, args.rates)
        if "action" in args.phases:
            figures["action_to_screen"] = action_to_screen(server, data)
    elif kind == "naive" and redis is not None and "targeted" in args.phases:
        with clients(server, [f"/ws/user/{i}" for i in range(n)], args.clients_processes) as generator:
            opened, failures = generator.opened()
            figures["targeted_clients"] = {"connected": opened, "failed_handshakes": len(failures)}
            figures["targeted"] = targeted(
                generator, server, redis, [f"user_{i}" for i in range(n)], args.rates
            )
    return figures


# --- Report --------------------------------------------------------------------


def machine() -> dict:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    server_cpus, load_cpus = cpu_split()
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "server_cpus": server_cpus,
        "load_cpus": load_cpus,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for target in report["targets"]:
        sizes = sorted(int(n) for n in target["sizes"])
        rows = [target["sizes"][str(n)]["broadcast"] for n in sizes]
        left.plot(sizes, [r["all_received_ms"]["p50"] for r in rows], marker="o", label=target["target"])
        right.plot(sizes, [r["server_cpu_us_per_message"] for r in rows], marker="o", label=target["target"])
        worker = [target["sizes"][str(n)].get("broadcast_from_worker") for n in sizes]
        if all(worker):
            label = target["target"] + ", published by a worker"
            left.plot(
                sizes, [r["all_received_ms"]["p50"] for r in worker], marker="s", linestyle="--", label=label
            )
            right.plot(
                sizes,
                [r["server_cpu_us_per_message"] for r in worker],
                marker="s",
                linestyle="--",
                label=label,
            )
    left.set(
        title="Broadcast: all N received (p50 of rounds)", xlabel="clients (N)", ylabel="ms", yscale="log"
    )
    right.set(title="Server CPU per delivered message", xlabel="clients (N)", ylabel="µs", yscale="log")
    for axis in (left, right):
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def summary(report: dict) -> str:
    """The report as markdown tables (what docs/PERFORMANCE.md quotes)."""
    lines = [
        "| target | N | connected (failed) | KB per idle conn | all received p50 / max (ms) "
        "| server wrote all, mean (ms) | latency p50 / p99 (ms) "
        "| server CPU per msg (µs): gross / net of idle | lost |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def wrote(figures: dict) -> str:
        written = figures.get("server_write_ms")
        return str(written["mean"]) if written else "-"

    for target in report["targets"]:
        for n, f in target["sizes"].items():
            b = f["broadcast"]
            lines.append(
                f"| {target['target']} | {int(n):,} | {f['connected']:,} ({f['failed_handshakes']}) "
                f"| {f['memory_kb_per_connection']} "
                f"| {b['all_received_ms']['p50']} / {b['all_received_ms']['max']} "
                f"| {wrote(b)} | {b['latency_ms']['p50']} / {b['latency_ms']['p99']} "
                f"| {b['server_cpu_us_per_message']} / {b['server_cpu_us_per_message_net']} | {b['lost']} |"
            )
    lines += [
        "",
        "| target | N | broadcast published by a worker: all received p50 (ms) / server wrote all, "
        "mean (ms) / net CPU per msg (µs) "
        "| feed fan-out: all received p50 (ms) | net CPU per msg (µs) "
        "| targeted: highest rate with p99 < 100 ms, none lost (p99 ms) | action to screen p50 / p99 (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for target in report["targets"]:
        for n, f in target["sizes"].items():
            if "feed_fanout" not in f and "targeted" not in f:
                continue
            feed = f.get("feed_fanout")
            good = [
                t
                for t in f.get("targeted", [])
                if not t["lost"] and t["latency_ms"]["p99"] < 100 and t["achieved_rate"] >= 0.9 * t["rate"]
            ]
            best = max(good, key=lambda t: t["rate"]) if good else None
            a2s = f.get("action_to_screen")
            if best:
                targeted_cell = f"{best['rate']:,}/s ({best['latency_ms']['p99']})"
            else:
                targeted_cell = "-" if "targeted" not in f else "none"
            feed_cells = (
                f"{feed['all_received_ms']['p50']} | {feed['server_cpu_us_per_message_net']}"
                if feed
                else "- | -"
            )
            a2s_cell = f"{a2s['p50_ms']} / {a2s['p99_ms']}" if a2s else "-"
            worker = f.get("broadcast_from_worker")
            worker_cell = (
                f"{worker['all_received_ms']['p50']} / {wrote(worker)} / "
                f"{worker['server_cpu_us_per_message_net']}"
                if worker
                else "-"
            )
            lines.append(
                f"| {target['target']} | {int(n):,} | {worker_cell} | {feed_cells} "
                f"| {targeted_cell} | {a2s_cell} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--targets", nargs="+", default=list(TARGETS), choices=TARGETS)
    parser.add_argument("--rates", type=int, nargs="+", default=[1000, 2000, 5000, 10000, 20000])
    parser.add_argument("--clients-processes", type=int, default=2)
    parser.add_argument(
        "--phases",
        nargs="*",
        default=["feed", "targeted", "action"],
        choices=["feed", "targeted", "action"],
        help="what to measure after the broadcast (each on fresh connections)",
    )
    parser.add_argument(
        "--naive-max",
        type=int,
        default=5000,
        help="largest N for naive-embedded (quadratic: minutes per round beyond)",
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks")
    parser.add_argument("--quick", action="store_true", help="N=500, 3 rounds: a smoke run")
    parser.add_argument(
        "--summarize",
        type=Path,
        metavar="JSON",
        help="print the tables of an earlier run's fanout.json, and stop",
    )
    args = parser.parse_args(argv)
    if args.summarize:
        print(summary(json.loads(args.summarize.read_text())))
        return 0
    if args.quick:
        args.sizes, args.rounds, args.rates = [500], 3, [500, 1000]
    workdir = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    print(f"work folder (server logs): {workdir}", flush=True)
    report = {
        "command": "python -m bench.fanout " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "targets": [],
    }
    for target in args.targets:
        sizes = [n for n in args.sizes if not (target == "naive-embedded" and n > args.naive_max)]
        report["targets"].append(run_target(target, sizes, args, workdir))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fanout.json").write_text(json.dumps(report, indent=1) + "\n")
    plot(report, args.out / "fanout.png")
    print(summary(report))
    print(f"wrote {args.out / 'fanout.json'} and {args.out / 'fanout.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
