"""Restart benchmark: one of two server processes restarted under its tabs.

    .venv/bin/python -m bench.restart [--tabs 5000] [--drain-seconds N]
        [--clients-processes 2] [--out docs/benchmarks]

Two product processes (bench/fanout.py's `Server` through bench/multiplex.py's
`product_server`: the entry point, DEBUG off, pinned to the server CPU,
multiplex.py's LIMITS) share one fresh SQLite database and a private
redis-server, so a broadcast from either reaches tabs on both. `--tabs`
tabs (bench/restartload.py: multiplex.py's storm tabs, notifications and
feed resumed with `since`, trending and 5 engagement streams) connect to
process A. Then A gets SIGTERM and drains (realtime/server/drain.py):
`reconnect` with `after_ms` spread over REALTIME_DRAIN_SECONDS, close 1012,
exit. Each tab reconnects as the dashboard's client does, after `after_ms`
plus its jitter, to process B (nginx's job in production), and resubscribes
with the last ids it saw.

While A drains, another process (a `manage.py shell` on the same database
and Redis) writes one notification for every tab's user, in random order
spread over the drain window, and the author every tab follows posts one
tweet half-way through, both through the services, so they are broadcast
on commit. A tab meets each live on A before its close, by replay on B, or
live on B: it must get each exactly once.

Measured: B's handshakes per second (the tabs' 101 responses, bucketed by
second after SIGTERM) against clients / drain-seconds, the time from
SIGTERM until every tab was set up again on B, B's CPU seconds over that
time, when and how A exited, tabs lost or failed, and the exactly-once
check. Writes <out>/restart.json.
"""

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench.fanout import REPO_ROOT, LoadGenerator, Redis, Server, cpu_split, machine, percentile
from bench.multiplex import (
    ENGAGEMENT_PER_STORM_TAB,
    LIMITS,
    PREPARE,
    TWEET_POOL,
    product_server,
    tab_spec,
)
from bench.restartload import session_process

# How long after the drain window the tabs may take to be back: a tab cut
# off at the deadline waits the client's backoff (3 s, jittered) first.
RESUME_GRACE_SECONDS = 60
# And a survivor that admits and sets up tabs slower than they come back
# (its waiting room, its CPU) takes longer still, in proportion.
RESUME_SECONDS_PER_TAB = 0.05
# The goal for the survivor's peak rate, as a multiple of
# clients / drain-seconds (an even spread).
PEAK_GOAL = 1.5

WRITE = r"""
import json, os, random, sys, time
from django.contrib.auth import get_user_model
from feed.services import tweet_create
from notifications.models import Notification
from notifications.services import notification_create
User = get_user_model()
args = json.loads(os.environ["BENCH_RESTART_WRITE"])
liker = User.objects.get(pk=args["liker"])
author = User.objects.get(username="mux_author")
recipients = list(User.objects.filter(pk__in=args["users"]))
random.shuffle(recipients)
print("ready", flush=True)
sys.stdin.readline()
start = time.monotonic()
made, tweet = {}, None
for k, user in enumerate(recipients):
    pause = start + args["span"] * k / len(recipients) - time.monotonic()
    if pause > 0:
        time.sleep(pause)
    if tweet is None and k >= len(recipients) // 2:
        posted = tweet_create(author=author, content="posted while a server restarts")
        tweet = [str(posted.pk), time.monotonic()]
    n = notification_create(recipient=user, actor=liker, kind=Notification.Type.MENTION)
    made[str(user.pk)] = [str(n.pk), time.monotonic()]
print(json.dumps({"notifications": made, "tweet": tweet}), flush=True)
"""


class SessionLoadGenerator(LoadGenerator):
    """Tabs (bench/restartload.py) in `processes` processes on the load CPUs,
    connecting to `port` and coming back to `to_port`."""

    def __init__(self, port: int, to_port: int, specs: list[dict], processes: int):
        self.paths = specs
        _, load_cpus = cpu_split()
        context = multiprocessing.get_context("fork")
        self.pipes, self.processes = [], []
        for chunk in (specs[i::processes] for i in range(processes)):
            if not chunk:
                continue
            parent, child = context.Pipe()
            process = context.Process(
                target=session_process,
                args=(child, "127.0.0.1", port, to_port, chunk, set(load_cpus)),
                daemon=True,
            )
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    def open(self, concurrency: int) -> tuple[int, list[str], int]:
        answers = self._all(("open", concurrency), timeout=600)
        return (
            sum(a[1] for a in answers),
            [f for a in answers for f in a[2]],
            sum(a[3] for a in answers),
        )

    def resumed(self, timeout: float) -> bool:
        return all(a[1] for a in self._all(("resumed", timeout), timeout + 30))

    def sessions(self) -> list[dict]:
        return [s for answer in self._all(("sessions",)) for s in answer[1]]


class Writer:
    """The process that writes while A drains (WRITE)."""

    def __init__(self, server: Server, users: list[int], liker: int, span: float):
        env = {
            **server.env,
            "BENCH_RESTART_WRITE": json.dumps({"users": users, "liker": liker, "span": span}),
        }
        # On the load CPUs: the servers' CPU is what is measured.
        _, load_cpus = cpu_split()
        pin = ["taskset", "-c", ",".join(map(str, load_cpus))] if shutil.which("taskset") else []
        self.process = subprocess.Popen(
            [*pin, sys.executable, "manage.py", "shell", "-c", WRITE],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Django's shell may say what it imported before the script runs.
        for line in self.process.stdout:
            if line.strip() == "ready":
                return
        raise RuntimeError(f"the writer did not start:\n{self.process.stderr.read()[-3000:]}")

    def go(self) -> None:
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def result(self, timeout: float) -> dict:
        out, err = self.process.communicate(timeout=timeout)
        if self.process.returncode != 0:
            raise RuntimeError(f"the writer failed:\n{err[-3000:]}")
        return json.loads(out.strip().splitlines()[-1])


class ExitWatch(threading.Thread):
    """When a server process exits, its exit code, and its CPU seconds
    sampled until then (a reaped process has no /proc entry left)."""

    def __init__(self, server: Server):
        super().__init__(daemon=True)
        self.server = server
        self.cpu = self.cpu_at_start = server.cpu_seconds()
        self.exited_at: float | None = None
        self.code: int | None = None

    def run(self) -> None:
        while self.server.process.poll() is None:
            try:
                self.cpu = self.server.cpu_seconds()
            except (OSError, IndexError):
                pass
            time.sleep(0.05)
        self.exited_at = time.monotonic()
        self.code = self.server.process.returncode


def drain_default(server: Server) -> float:
    out = server.manage(
        "shell", "-c", "from django.conf import settings; print(settings.REALTIME_DRAIN_SECONDS)"
    )
    return float(out.strip().splitlines()[-1])


def restart(args, workdir: Path) -> dict:
    database = workdir / "db.sqlite3"
    redis = Redis(workdir)
    try:
        setup = product_server(workdir, "setup", database, redis)
        setup.manage("migrate", "--noinput")
        data = json.loads(
            setup.manage("shell", stdin=PREPARE % (args.tabs, TWEET_POOL)).strip().splitlines()[-1]
        )
        drain = args.drain_seconds if args.drain_seconds is not None else drain_default(setup)
        a, b = (product_server(workdir, name, database, redis) for name in ("A", "B"))
        for server in (a, b):
            server.env["REALTIME_DRAIN_SECONDS"] = str(drain)
            # multiplex.py's limits turn the waiting room off; a restart is
            # what it is for: the product's default.
            server.env.pop("REALTIME_ADMISSIONS_PER_SECOND", None)
        a.start()
        b.start()
        try:
            return measure(args, data, drain, a, b)
        finally:
            a.stop()
            b.stop()
    finally:
        redis.stop()


def measure(args, data: dict, drain: float, a: Server, b: Server) -> dict:
    specs = [tab_spec(data, i, ENGAGEMENT_PER_STORM_TAB, True) for i in range(args.tabs)]
    generator = SessionLoadGenerator(a.port, b.port, specs, args.clients_processes)
    try:
        started = time.monotonic()
        opened, failures, retries = generator.open(200)
        first = {
            "set_up": opened,
            "failed": len(failures),
            "failure_examples": sorted(set(failures))[:3],
            "retried": retries,
            "seconds": round(time.monotonic() - started, 2),
        }
        print(f"  on A: {json.dumps(first)}", flush=True)
        writer = Writer(b, [int(spec["user"]) for spec in specs], data["liker"][0], drain)
        print("  writer ready; SIGTERM to A", flush=True)
        time.sleep(1.0)
        watch = ExitWatch(a)
        watch.start()
        cpu_b = b.cpu_seconds()
        sigterm = time.monotonic()
        a.process.send_signal(signal.SIGTERM)
        writer.go()
        all_resumed = generator.resumed(drain + RESUME_GRACE_SECONDS + args.tabs * RESUME_SECONDS_PER_TAB)
        resumed_at = time.monotonic()
        cpu_b = b.cpu_seconds() - cpu_b
        print(
            f"  {'all' if all_resumed else 'NOT all'} resumed after {resumed_at - sigterm:.1f} s", flush=True
        )
        watch.join(drain + 30)
        written = writer.result(timeout=120)
        sessions = generator.sessions()
    finally:
        generator.close()
    figures = {"tabs": args.tabs, "drain_seconds": drain, "first_connect": first}
    figures.update(survivor(sessions, b.port, sigterm, drain, args.tabs))
    figures["all_resumed"] = all_resumed
    figures["watched_seconds"] = round(resumed_at - sigterm, 2)
    figures["survivor_cpu_seconds"] = round(cpu_b, 2)
    figures["survivor_cpu_ms_per_tab"] = round(cpu_b / max(args.tabs, 1) * 1000, 2)
    figures["stopping"] = {
        "exit_code": watch.code,
        "exit_seconds": round(watch.exited_at - sigterm, 2) if watch.exited_at else None,
        "cpu_seconds_in_drain": round(watch.cpu - watch.cpu_at_start, 2),
    }
    figures.update(drain_seen(sessions, sigterm))
    figures["exactly_once"] = exactly_once(sessions, written, sigterm, a.port, b.port)
    return figures


def survivor(sessions: list[dict], port: int, sigterm: float, drain: float, tabs: int) -> dict:
    """B's handshakes per second after SIGTERM, and when the tabs were set up on it."""
    attempts = [c for s in sessions for c in s["connections"] if c["port"] == port]
    shakes = [c["handshake_at"] - sigterm for c in attempts if c["handshake_at"] is not None]
    done = [c["done_at"] - sigterm for c in attempts if c["done_at"] is not None]
    per_second = Counter(int(t) for t in shakes)
    seconds = range(max(per_second) + 1) if per_second else range(0)
    even = tabs / drain if drain else None
    peak = max(per_second.values()) if per_second else 0
    return {
        "survivor_handshakes": len(shakes),
        "survivor_failed_attempts": sum(1 for c in attempts if c.get("failure")),
        "survivor_refused_1013": sum(1 for c in attempts if "(1013)" in c.get("failure", "")),
        "setup_after_handshake_p50_max_seconds": spread(
            [c["done_at"] - c["handshake_at"] for c in attempts if c["done_at"] is not None]
        ),
        "survivor_handshakes_per_second": [per_second.get(k, 0) for k in seconds],
        "peak_handshakes_per_second": peak,
        "even_rate": round(even, 1) if even else None,
        "peak_over_even": round(peak / even, 2) if even else None,
        "peak_goal": PEAK_GOAL,
        "peak_meets_goal": bool(even) and peak <= PEAK_GOAL * even,
        "resumed": len(done),
        "not_resumed": sum(1 for s in sessions if not s["resumed"]),
        "all_resumed_seconds": round(max(done), 2) if done else None,
        "resumed_p50_seconds": round(percentile(done, 50), 2) if done else None,
        "resumed_p99_seconds": round(percentile(done, 99), 2) if done else None,
    }


def spread(values: list[float]) -> list[float] | None:
    return [round(percentile(values, 50), 2), round(max(values), 2)] if values else None


def drain_seen(sessions: list[dict], sigterm: float) -> dict:
    """What the tabs saw of A's drain: codes, `reconnect`, `after_ms`, when."""
    told = [s for s in sessions if s["told_at"] is not None]
    after = [s["after_ms"] for s in told if s["after_ms"] is not None]
    lost = [s["lost_at"] - sigterm for s in sessions if s["lost_at"] is not None]
    return {
        "close_codes": {str(k): v for k, v in Counter(s["close_code"] for s in sessions).items()},
        "told_to_reconnect": len(told),
        "cut_off_without_close": sum(1 for s in sessions if s["cut_off"]),
        "after_ms_min_max": [min(after), max(after)] if after else None,
        "closed_seconds_first_last": [round(min(lost), 2), round(max(lost), 2)] if lost else None,
        "tabs_with_errors": sum(1 for s in sessions if s["errors"]),
        "error_examples": sorted({e for s in sessions for e in s["errors"]})[:3],
    }


def exactly_once(sessions: list[dict], written: dict, sigterm: float, port_a: int, port_b: int) -> dict:
    """Each tab got its notification and the tweet once each, and nothing else."""
    tweet_id = written["tweet"][0] if written["tweet"] else None
    wrong, how = [], Counter()
    names = {
        "replay": "replayed on resubscribe",
        f"live:{port_a}": "live on A",
        f"live:{port_b}": "live on B",
    }
    for s in sessions:
        uid = s["user"]
        expected_n = [written["notifications"][uid][0]] if uid in written["notifications"] else []
        got_n = s["ids"].get(f"notifications/{uid}", [])
        got_f = s["ids"].get(f"feed/{uid}", [])
        if got_n != expected_n or got_f != ([tweet_id] if tweet_id else []):
            wrong.append({"user": uid, "notifications": got_n, "expected": expected_n, "feed": got_f})
        how.update(names.get(s["how"].get(i), "?") for i in got_n + got_f)
    times = [t - sigterm for _, t in written["notifications"].values()]
    return {
        "notifications_written": len(written["notifications"]),
        "written_seconds_first_last": [round(min(times), 2), round(max(times), 2)] if times else None,
        "tweet_written_seconds": round(written["tweet"][1] - sigterm, 2) if written["tweet"] else None,
        "tabs_checked": len(sessions),
        "tabs_wrong": len(wrong),
        "wrong_examples": wrong[:3],
        "arrived": dict(how),
    }


def summary(report: dict) -> str:
    f = report["restart"]
    stop = f["stopping"]
    once = f["exactly_once"]
    return "\n".join(
        [
            f"Restart: {f['tabs']} tabs on A ({f['first_connect']['set_up']} set up), A drained over "
            f"{f['drain_seconds']} s, tabs back on B:",
            f"  B's peak handshakes/s {f['peak_handshakes_per_second']} (even spread "
            f"{f['even_rate']}/s; {f['peak_over_even']}x, goal <= {f['peak_goal']}x: "
            f"{'meets' if f['peak_meets_goal'] else 'misses'}); per second: "
            f"{f['survivor_handshakes_per_second']}",
            f"  every tab resumed on B {f['all_resumed_seconds']} s after SIGTERM (p50 "
            f"{f['resumed_p50_seconds']}, p99 {f['resumed_p99_seconds']}); not resumed "
            f"{f['not_resumed']}; failed attempts on B {f['survivor_failed_attempts']} "
            f"({f['survivor_refused_1013']} refused by its waiting room, 1013); setup after the "
            f"handshake p50/max {f['setup_after_handshake_p50_max_seconds']} s",
            f"  B's CPU {f['survivor_cpu_seconds']} s from SIGTERM until all resumed "
            f"({f['survivor_cpu_ms_per_tab']} ms per tab)",
            f"  A exited {stop['exit_seconds']} s after SIGTERM with code {stop['exit_code']} "
            f"(CPU in its drain {stop['cpu_seconds_in_drain']} s); close codes {f['close_codes']}; "
            f"told to reconnect {f['told_to_reconnect']}; cut off {f['cut_off_without_close']}; "
            f"closes from {f['closed_seconds_first_last']} s",
            f"  exactly once: {once['tabs_wrong']} of {once['tabs_checked']} tabs wrong; "
            f"{once['notifications_written']} notifications written "
            f"{once['written_seconds_first_last']} s after SIGTERM and a tweet at "
            f"{once['tweet_written_seconds']} s; arrived {once['arrived']}; tabs with errors "
            f"{f['tabs_with_errors']}",
        ]
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tabs", type=int, default=5000)
    parser.add_argument(
        "--drain-seconds", type=float, default=None, help="REALTIME_DRAIN_SECONDS (default: the product's)"
    )
    parser.add_argument("--clients-processes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-restart-"))
    print(f"work folder (server logs): {workdir}", flush=True)
    report = {
        "command": "python -m bench.restart " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "load_average_before": os.getloadavg(),
        "limits": {key: value or "(default)" for key, (value, _) in LIMITS.items()},
    }
    report["restart"] = restart(args, workdir)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "restart.json").write_text(json.dumps(report, indent=1) + "\n")
    print(summary(report))
    print(f"wrote {args.out / 'restart.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
