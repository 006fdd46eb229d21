"""What redis-py costs per pub/sub message as RESP2 and as RESP3.

    .venv/bin/python -m bench.redis_protocol [--messages 30000] [--size 300] [--rounds 3]

Starts a private redis-server. A subscriber reads messages the way
channels-redis' receiving loop does (`get_message(timeout=0.1)`, hiredis
parser) while another process publishes them, pipelined, to 100 channels;
prints the subscriber's CPU time per message, alternating the protocols.
Why the channel layer subscribes over RESP2: realtime/layers/redis_pubsub.py.
"""

import argparse
import asyncio
import subprocess
import sys
import time

from bench.channel_layers import start_redis

PUBLISHER = """
import sys, redis
url, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pipe = redis.Redis.from_url(url).pipeline(transaction=False)
for number in range(count):
    pipe.publish(f"g{number % 100}", b"x" * size)
pipe.execute()
"""


async def cpu_us_per_message(url: str, protocol: int, messages: int, size: int) -> float:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, protocol=protocol)
    pubsub = client.pubsub()
    await pubsub.subscribe(*[f"g{number}" for number in range(100)])
    while await pubsub.get_message(timeout=0.2):
        pass  # the subscribe confirmations
    publisher = subprocess.Popen([sys.executable, "-c", PUBLISHER, url, str(messages), str(size)])
    received, started = 0, None
    while received < messages:
        if await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1):
            # From the first message on: the wait for the publisher to start is not the reader's.
            started = started if started is not None else time.process_time()
            received += 1
    cpu = time.process_time() - started
    publisher.wait()
    await pubsub.aclose()
    await client.aclose()
    return cpu / messages * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=30000)
    parser.add_argument("--size", type=int, default=300, help="payload bytes")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server, url = start_redis()
    try:
        results: dict[int, list[float]] = {2: [], 3: []}
        for _ in range(args.rounds):
            for protocol in (3, 2):
                results[protocol].append(
                    asyncio.run(cpu_us_per_message(url, protocol, args.messages, args.size))
                )
        for protocol, figures in results.items():
            print(
                f"RESP{protocol}: "
                + ", ".join(f"{value:.1f}" for value in figures)
                + " us of CPU per message"
            )
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
