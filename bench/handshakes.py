"""Handshake rate: how fast one server process accepts N WebSocket clients.

    .venv/bin/python -m bench.handshakes [--clients 3000] [--stream engagement|feed] [--redis]

Starts the product under Daphne as bench/fanout.py does (pinned to CPU 0,
a fresh SQLite database, DEBUG off; --redis adds a private redis-server),
connects N clients from two processes on the other CPU, and prints the
rate and the server's CPU time per handshake. Settings given in the
environment reach the server (REALTIME_STREAM_DB_CONN_MAX_AGE=0, say, to
compare).
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.fanout import PREPARE, Redis, Server, clients


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=3000)
    parser.add_argument("--stream", choices=("engagement", "feed"), default="engagement")
    parser.add_argument("--redis", action="store_true")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-handshakes-"))
    redis = Redis(workdir) if args.redis else None
    server = Server("product-redis" if redis else "product-embedded", workdir, redis)
    server.log_path = workdir / "server.log"
    try:
        server.manage("migrate", "--noinput")
        data = json.loads(server.manage("shell", stdin=PREPARE % args.clients).strip().splitlines()[-1])
        server.start()
        if args.stream == "engagement":
            paths = [f"/ws/engagement/{data['tweet_id']}"] * args.clients
        else:
            paths = [f"/ws/feed/{uid}?token={token}" for uid, token in data["fans"]]
        cpu_before, started = server.cpu_seconds(), time.monotonic()
        with clients(server, paths, 2) as generator:
            opened, failed = generator.opened()
            seconds = time.monotonic() - started
            cpu = server.cpu_seconds() - cpu_before
        print(
            f"{args.stream}{' (redis)' if redis else ''}: {opened} opened, {len(failed)} failed "
            f"in {seconds:.1f} s = {opened / seconds:.0f}/s; "
            f"server CPU {1000 * cpu / max(opened, 1):.2f} ms per handshake"
        )
    finally:
        server.stop()
        if redis is not None:
            redis.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
