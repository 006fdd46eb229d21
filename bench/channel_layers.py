"""Compare channel layers: channels-redis' RedisChannelLayer and
RedisPubSubChannelLayer, and the in-memory layers for one process.

    .venv/bin/python -m bench.channel_layers [--receivers 2000] [--targeted 20000] [--broadcasts 20]

Starts a private redis-server, then for each layer, in one process (as one
Daphne process would): `receivers` channels each in its own group (a user's
notifications group) and all in one shared group (a tweet's watchers).
- targeted: `targeted` group_sends to random user groups, as fast as the
  layer takes them; the rate at which they are all received.
- broadcast: `broadcasts` group_sends to the shared group; time until every
  receiver has every message.
- lost: messages sent but never received within 10 s.
Prints a table and writes docs/benchmarks/channel_layers.json.
"""

import argparse
import asyncio
import json
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

LAYERS = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    # The embedded default (one process), and the stock layer it replaces.
    "inmemory-stock": "channels.layers.InMemoryChannelLayer",
    "inmemory-fanout": "realtime_project.realtime.layers.inmemory.FanOutInMemoryChannelLayer",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, f"redis://127.0.0.1:{port}/0"


def make_layer(kind: str, url: str):
    from django.conf import settings

    config = {"hosts": [{"address": url, "socket_timeout": 15, "max_connections": 1000}]}
    if kind == "core":
        config.update(capacity=100_000, group_expiry=86400)
    elif kind == "pubsub":
        config = {"hosts": [url]}
    else:
        config = {"capacity": 100_000}
    settings.CHANNEL_LAYERS = {"bench": {"BACKEND": LAYERS[kind], "CONFIG": config}}
    from channels.layers import channel_layers

    channel_layers.backends.pop("bench", None)
    return channel_layers["bench"]


async def run(kind: str, url: str, receivers: int, targeted: int, broadcasts: int) -> dict:
    layer = make_layer(kind, url)
    channels = [await layer.new_channel() for _ in range(receivers)]
    for index, channel in enumerate(channels):
        await layer.group_add(f"bench.user.{index}", channel)
        await layer.group_add("bench.all", channel)
    received = [0] * receivers
    latencies: list[float] = []
    expected = {"count": 0}
    done = asyncio.Event()

    async def receive(index: int, channel: str):
        while True:
            message = await layer.receive(channel)
            received[index] += 1
            latencies.append(time.perf_counter() - message["t"])
            if sum(received) >= expected["count"]:
                done.set()

    tasks = [asyncio.create_task(receive(i, c)) for i, c in enumerate(channels)]
    await asyncio.sleep(0.5)

    async def phase(sends: list[str], deliveries: int) -> tuple[float, int]:
        latencies.clear()
        for i in range(receivers):
            received[i] = 0
        expected["count"] = deliveries
        done.clear()
        start = time.perf_counter()
        for group in sends:
            await layer.group_send(group, {"type": "bench", "t": time.perf_counter()})
        try:
            await asyncio.wait_for(done.wait(), timeout=10 + len(sends) / 1000)
        except TimeoutError:
            pass
        return time.perf_counter() - start, deliveries - sum(received)

    groups = [f"bench.user.{random.randrange(receivers)}" for _ in range(targeted)]
    targeted_seconds, targeted_lost = await phase(groups, targeted)
    targeted_p99 = sorted(latencies)[int(len(latencies) * 0.99) - 1] if latencies else None
    broadcast_seconds, broadcast_lost = await phase(["bench.all"] * broadcasts, broadcasts * receivers)
    broadcast_p99 = sorted(latencies)[int(len(latencies) * 0.99) - 1] if latencies else None
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for channel in channels:
        await layer.group_discard("bench.all", channel)
    return {
        "layer": kind,
        "receivers": receivers,
        "targeted_msgs_per_s": round(targeted / targeted_seconds),
        "targeted_p99_ms": round(targeted_p99 * 1000, 1) if targeted_p99 else None,
        "targeted_lost": targeted_lost,
        "broadcast_deliveries_per_s": round(broadcasts * receivers / broadcast_seconds),
        "broadcast_p99_ms": round(broadcast_p99 * 1000, 1) if broadcast_p99 else None,
        "broadcast_lost": broadcast_lost,
    }


def main():
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "realtime_project.settings")
    # A benchmark, not a server: settings demand a key when DEBUG is off.
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    django.setup()
    parser = argparse.ArgumentParser()
    parser.add_argument("--receivers", type=int, default=2000)
    parser.add_argument("--targeted", type=int, default=20000)
    parser.add_argument("--broadcasts", type=int, default=20)
    args = parser.parse_args()
    redis_process, url = start_redis()
    try:
        results = [
            asyncio.run(run(kind, url, args.receivers, args.targeted, args.broadcasts)) for kind in LAYERS
        ]
    finally:
        redis_process.kill()
    columns = list(results[0])
    print(" | ".join(columns))
    for row in results:
        print(" | ".join(str(row[c]) for c in columns))
    out = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "channel_layers.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
