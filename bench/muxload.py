"""Browser tabs on `/ws/` for bench/multiplex.py: bench/wsload.py's bare
clients, each subscribing on its one connection to a list of streams.

A tab is described by a spec, `{"path": "/ws/?token=...", "subscribe":
[{"type": "subscribe", "stream": ..., "since"?: ...}, ...]}`. On `welcome`
it sends every subscribe at once, then a `ping`. The server handles one
connection's messages in order, so the pong of that ping comes after every
`subscribed` and every replay or snapshot: the tab counts itself set up
at that pong (its second: wsload's client pings after the handshake too)
once each stream was answered. Until then each frame is parsed, and the
ids that notifications and feed replays carry are kept per stream; after,
frames are only timed, as wsload's are.

A process of tabs speaks wsload's Pipe protocol (mark, wait, report,
close) and three commands more:
  ("open", concurrency)   connect every spec, at most `concurrency` at once;
                          answer ("opened", n, failures, retries)
  ("tabs",)               answer ("tabs", one dict per spec: user, done_at,
                          attempts, errors, ids per stream)
  ("drop",)               close every connection (no close frame, as when
                          a server goes away); answer ("dropped",)
"""

import asyncio
import json
import os
import random

from bench.wsload import PING, Client, ClientGroup, answer_commands, masked_frame


class Tab(Client):
    def __init__(self, group: ClientGroup, host: str, spec: dict):
        super().__init__(group, host, spec["path"])
        self.spec = spec
        self.pending = {message["stream"] for message in spec["subscribe"]}
        self.asked = False
        self.pongs = 0
        self.errors: list[str] = []
        self.ids: dict[str, list[str]] = {}
        self.done_at: float | None = None
        # The `after_ms` of a `reconnect` (the server's waiting room or drain).
        self.after_ms: int | None = None

    def on_text(self, now: float, buffer: bytearray, start: int, end: int) -> None:
        if self.subscribed.done():
            super().on_text(now, buffer, start, end)
            return
        frame = json.loads(bytes(buffer[start:end]))
        kind = frame.get("type")
        stream = frame.get("stream")
        data = frame.get("data") or {}
        if kind == "welcome":
            for message in self.spec["subscribe"]:
                self.transport.write(masked_frame(json.dumps(message, separators=(",", ":")).encode()))
            self.transport.write(masked_frame(PING))
            self.asked = True
        elif kind == "reconnect":
            self.after_ms = int(data.get("after_ms", 0))
        elif kind == "pong":
            self.pongs += 1
        elif kind == "subscribed":
            self.pending.discard(stream)
        elif kind in ("subscribe_error", "error", "unsubscribed"):
            self.errors.append(f"{kind} {stream}: {data.get('code')} {data.get('message')}"[:200])
            self.pending.discard(stream)
        elif kind == "notification":
            self.ids.setdefault(stream, []).append(data["notification_id"])
        elif kind == "feed_update":
            self.ids.setdefault(stream, []).extend(tweet["tweet_id"] for tweet in data["tweets"])
        if self.asked and self.pongs >= 2 and not self.pending:
            self.done_at = now
            # wsload's client counts what follows this as measured arrivals.
            self.subscribed.set_result(True)

    def outcome(self) -> dict:
        return {
            "user": self.spec.get("user"),
            "done_at": self.done_at,
            "errors": self.errors,
            "ids": self.ids,
        }


async def open_tabs(
    group: ClientGroup, host: str, port: int, specs: list[dict], concurrency: int
) -> tuple[int, list[str], int, list[dict]]:
    """Connect and set up every spec; (opened, failures, retries, outcomes).

    A tab that fails is tried twice more after a second or so, as a
    client's reconnect would; each such try counts in `retries`. A tab the
    server sends away with `reconnect` (its waiting room) comes back after
    `after_ms` plus jitter, as the browser client does, as often as it is
    told to: its outcome's `waited` counts those, and they are no failure."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(max(1, concurrency))
    failures: list[str] = []
    outcomes: list[dict] = []
    retries = 0

    async def one(spec: dict) -> None:
        nonlocal retries
        async with gate:
            attempt = waited = 0
            while True:
                tab = None
                try:
                    _, tab = await asyncio.wait_for(
                        loop.create_connection(lambda: Tab(group, f"{host}:{port}", spec), host, port), 30
                    )
                    await asyncio.wait_for(tab.subscribed, 60)
                    group.clients.append(tab)
                    outcomes.append({**tab.outcome(), "attempts": attempt + 1, "waited": waited})
                    return
                except (TimeoutError, OSError, ConnectionError) as error:
                    if tab is not None and tab.transport is not None:
                        tab.closed = True
                        tab.transport.abort()
                    if tab is not None and tab.after_ms is not None:
                        # Sent to the waiting room (`reconnect`, then 1013):
                        # back after after_ms plus a browser's jitter, not a failure.
                        waited += 1
                        await asyncio.sleep(tab.after_ms / 1000 + 0.5 * random.random())
                        continue
                    attempt += 1
                    if attempt == 3:
                        failures.append(f"{type(error).__name__}: {error}"[:200])
                        outcomes.append(
                            {
                                **(tab.outcome() if tab else {"user": spec.get("user"), "ids": {}}),
                                "done_at": None,
                                "attempts": 3,
                                "waited": waited,
                                "failure": str(error)[:200],
                            }
                        )
                        return
                    retries += 1
                    await asyncio.sleep(0.7 + random.random())

    await asyncio.gather(*(one(spec) for spec in specs))
    return len(group.clients), failures, retries, outcomes


def tab_process(conn, host: str, port: int, specs: list[dict], cpus) -> None:
    """Entry point of a process of tabs."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    asyncio.run(_serve(conn, host, port, specs))


async def _serve(conn, host: str, port: int, specs: list[dict]) -> None:
    group = ClientGroup()
    outcomes: list[dict] = []

    async def tab_command(command: tuple) -> bool:
        nonlocal outcomes
        if command[0] == "open":
            opened, failures, retries, outcomes = await open_tabs(group, host, port, specs, command[1])
            conn.send(("opened", opened, failures, retries))
        elif command[0] == "tabs":
            conn.send(("tabs", outcomes))
        elif command[0] == "drop":
            for client in group.clients:
                client.closed = True
                client.transport.abort()
            group.clients = []
            group.mark()
            await asyncio.sleep(0.2)
            conn.send(("dropped",))
        else:
            return False
        return True

    await answer_commands(conn, group, tab_command)
