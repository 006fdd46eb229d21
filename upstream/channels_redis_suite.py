"""Run channels-redis' own pub/sub tests against this project's Redis layer.

    .venv/bin/python upstream/channels_redis_suite.py

Unpacks the sdist of the channels-redis version requirements.txt pins with
channels_redis_conftest.py in its tests/ folder (sdist.py; the conftest
substitutes FanOutRedisPubSubChannelLayer for RedisPubSubChannelLayer),
starts a private redis-server and a Sentinel watching it on free ports, runs the tests and
stops both servers, whatever happened. Exits non-zero when a test fails.

Only tests/test_pubsub.py and tests/test_pubsub_sentinel.py run: they are
the tests of RedisPubSubChannelLayer, the class our layer subclasses.
test_core.py and test_sentinel.py test RedisChannelLayer (channels-redis'
list-based core layer), which this project neither uses nor subclasses;
test_serializers.py and test_utils.py test helpers we use unchanged.
"""

import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
from sdist import pytest, suite_env, unpacked_sdist

TESTS = ["tests/test_pubsub.py", "tests/test_pubsub_sentinel.py"]
# The master name and password tests/test_pubsub_sentinel.py expects of its
# Sentinel (SENTINEL_MASTER, SENTINEL_KWARGS); its master has no password.
SENTINEL_MASTER = "sentinel"
SENTINEL_PASSWORD = "channels_redis"
READY_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check, what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        try:
            if check():
                return
        except (RedisError, OSError):
            pass
        if time.monotonic() > deadline:
            sys.exit(f"{what} was not ready within {READY_TIMEOUT_SECONDS:.0f} s")
        time.sleep(0.05)


def start(stack: ExitStack, command: list[str], log: Path) -> None:
    """Start `command`, to be stopped (by its own pid) when `stack` closes."""
    out = stack.enter_context(log.open("w"))
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)

    def stop():
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    stack.callback(stop)


def start_redis(stack: ExitStack, scratch: Path) -> int:
    # Never the machine's Redis on 6379: a private, memory-only one.
    port = free_port()
    start(
        stack,
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(scratch),
        ],
        scratch / "redis.log",
    )
    wait_until(lambda: Redis(port=port).ping(), f"redis-server on {port}")
    return port


def start_sentinel(stack: ExitStack, scratch: Path, master_port: int) -> int:
    port = free_port()
    # Sentinel rewrites its configuration file: one in the scratch folder.
    config = scratch / "sentinel.conf"
    config.write_text(
        f"port {port}\n"
        "bind 127.0.0.1\n"
        f"dir {scratch}\n"
        f"requirepass {SENTINEL_PASSWORD}\n"
        f"sentinel monitor {SENTINEL_MASTER} 127.0.0.1 {master_port} 1\n"
    )
    start(stack, ["redis-server", str(config), "--sentinel"], scratch / "sentinel.log")

    def master_known() -> bool:
        sentinel = Redis(port=port, password=SENTINEL_PASSWORD)
        return sentinel.execute_command("SENTINEL", "get-master-addr-by-name", SENTINEL_MASTER) is not None

    wait_until(master_known, f"the Sentinel on {port}")
    return port


def main() -> int:
    started = time.monotonic()
    # A SIGTERM (a CI job cancelled) unwinds like an error, so the servers
    # are stopped rather than left running.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    folder = unpacked_sdist("channels-redis", "channels_redis_conftest.py")
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="upstream-channels-redis-")))
        redis_port = start_redis(stack, scratch)
        sentinel_port = start_sentinel(stack, scratch, redis_port)
        env = suite_env(
            REALTIME_UPSTREAM_REDIS_PORT=str(redis_port),
            REALTIME_UPSTREAM_SENTINEL_PORT=str(sentinel_port),
        )
        # --tb=line, with no cache provider (sdist.pytest): a test that hits
        # its timeout (setup.cfg: 10 s) otherwise ends the run in an
        # INTERNALERROR. The suite's fixtures are function-scoped: say so,
        # which pytest-asyncio otherwise warns about on every run.
        options = ["--tb=line", "-o", "asyncio_default_fixture_loop_scope=function"]
        returncode = pytest(folder, [*options, *TESTS], env)
    print(f"channels-redis pub/sub suite: {time.monotonic() - started:.1f} s", flush=True)
    return returncode


if __name__ == "__main__":
    sys.exit(main())
