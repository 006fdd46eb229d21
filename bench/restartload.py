"""Browser tabs that ride through a server restart, for bench/restart.py.

A tab is bench/muxload.py's (one `/ws/` connection, a spec's subscribes
sent on `welcome`, set up at the second pong once every stream answered),
kept as a session over the connections it makes. It follows the
dashboard's client (frontend/lib/realtime/shared.ts, `retryDelay`):
- on `reconnect` then close 1012 or 1013 it connects again after `after_ms`
  plus up to `jitter` x the base delay;
- on any other loss (no close frame: a drain that ran out of time cut it
  off) after the backoff's base delay, jittered the same way;
- a connection attempt that fails is tried again on the backoff.
Every reconnection goes to `to_port`: in production nginx sends it to a
process still up. It resubscribes with `since` set, per resumable stream,
to the last id the session saw on it (the spec's own `since` if none).

Each session records every notification and feed id it is sent, on every
connection and live or replayed alike: bench/restart.py checks that each
arrived exactly once.

A process of sessions speaks wsload's Pipe protocol (`close`) and:
  ("open", concurrency)   connect every spec to the first port, at most
                          `concurrency` at once; answer
                          ("opened", n, failures, retries)
  ("resumed", timeout)    answer ("resumed", all_resumed) once every
                          session that was sent away is set up again, or
                          after `timeout` seconds
  ("sessions",)           answer ("sessions", one dict per spec)
"""

import asyncio
import json
import os
import random
import time

from bench.muxload import Tab
from bench.wsload import ClientGroup, answer_commands

RESUMABLE = ("notifications/", "feed/")
RESTART_CLOSE_CODES = (1012, 1013)
# The dashboard client's DEFAULTS (frontend/lib/realtime/shared.ts).
BASE_DELAY_SECONDS = 3.0
BACKOFF_FACTOR = 2
MAX_DELAY_SECONDS = 48.0
JITTER = 0.2
CONNECT_TIMEOUT_SECONDS = 30
SET_UP_TIMEOUT_SECONDS = 60


class Session:
    """One tab across its connections."""

    def __init__(self, spec: dict, on_away):
        self.spec = spec
        self.away = on_away
        self.last_id: dict[str, str] = {}
        self.ids: dict[str, list[str]] = {}
        # How each id came: "replay", or "live" on a port.
        self.how: dict[str, str] = {}
        self.errors: list[str] = []
        self.connections: list[dict] = []
        self.after_ms: int | None = None
        self.told_at: float | None = None
        self.close_code: int | None = None
        self.lost_at: float | None = None
        self.cut_off = False
        self.resumed = asyncio.get_running_loop().create_future()
        self.sent_away = False

    def spec_now(self) -> dict:
        """The spec, each resumable stream's `since` moved to what was seen."""
        subscribes = []
        for message in self.spec["subscribe"]:
            stream = message["stream"]
            if stream in self.last_id:
                message = {**message, "since": self.last_id[stream]}
            subscribes.append(message)
        return {**self.spec, "subscribe": subscribes}

    def saw(self, stream: str, ids: list[str], how: str) -> None:
        if not ids:
            return
        self.ids.setdefault(stream, []).extend(ids)
        self.how.update((i, how) for i in ids)
        if stream.startswith(RESUMABLE):
            self.last_id[stream] = ids[-1]

    def outcome(self) -> dict:
        return {
            "user": self.spec.get("user"),
            "ids": self.ids,
            "how": self.how,
            "errors": self.errors,
            "connections": self.connections,
            "after_ms": self.after_ms,
            "told_at": self.told_at,
            "close_code": self.close_code,
            "lost_at": self.lost_at,
            "cut_off": self.cut_off,
            "resumed": self.resumed.done() and self.resumed.result(),
        }


class SessionTab(Tab):
    """One connection of a session: muxload's tab, parsing every frame."""

    def __init__(self, group: ClientGroup, host: str, session: Session, record: dict):
        super().__init__(group, host, session.spec_now())
        self.session = session
        self.record = record

    def data_received(self, data):
        was = self.handshaken
        super().data_received(data)
        if self.handshaken and not was:
            self.record["handshake_at"] = time.monotonic()

    def on_text(self, now: float, buffer: bytearray, start: int, end: int) -> None:
        frame = json.loads(bytes(buffer[start:end]))
        kind = frame.get("type")
        stream = frame.get("stream") or ""
        data = frame.get("data") or {}
        how = f"live:{self.record['port']}" if self.subscribed.done() else "replay"
        if kind == "notification":
            self.session.saw(stream, [data["notification_id"]], how)
        elif kind == "feed_update":
            self.session.saw(stream, [tweet["tweet_id"] for tweet in data["tweets"]], how)
        elif kind == "reconnect":
            self.record["after_ms"] = data.get("after_ms")
            if self.subscribed.done():
                self.session.after_ms = data.get("after_ms")
                self.session.told_at = now
        elif kind in ("error", "subscribe_error") and self.subscribed.done():
            self.session.errors.append(f"{kind} {stream}: {data.get('code')} {data.get('message')}"[:200])
        if not self.subscribed.done():
            # muxload's tab records replays itself; the session did above.
            self.ids = {}
            super().on_text(now, buffer, start, end)
            if self.subscribed.done():
                self.record["done_at"] = now
                self.session.errors += self.errors

    def fail(self, why: str) -> None:
        if self.subscribed.done() and not self.closed:
            self.session.lost_at = time.monotonic()
            code = why.rsplit("(", 1)[-1].rstrip(")")
            self.session.close_code = int(code) if code.isdigit() else None
            self.session.cut_off = self.session.close_code is None
            self.closed = True
            if self.transport:
                self.transport.abort()
            self.session.away()
            return
        super().fail(why)


def retry_delay(attempt: int, after_ms: int | None) -> float:
    """The dashboard client's `retryDelay`, in seconds."""
    if after_ms is not None:
        return after_ms / 1000 + JITTER * BASE_DELAY_SECONDS * random.random()
    delay = min(BASE_DELAY_SECONDS * BACKOFF_FACTOR**attempt, MAX_DELAY_SECONDS)
    return delay * (1 - JITTER + 2 * JITTER * random.random())


class Sessions:
    """The sessions of one process."""

    def __init__(self, host: str, port: int, to_port: int, specs: list[dict]):
        self.host, self.port, self.to_port = host, port, to_port
        self.group = ClientGroup()
        self.sessions = [
            Session(spec, lambda i=i: self.away(self.sessions[i])) for i, spec in enumerate(specs)
        ]
        self.retries = 0

    async def connect(self, session: Session, port: int) -> None:
        """Connect and set up `session` on `port`; raise on failure."""
        loop = asyncio.get_running_loop()
        record = {"port": port, "started_at": time.monotonic(), "handshake_at": None, "done_at": None}
        session.connections.append(record)
        tab = None
        try:
            _, tab = await asyncio.wait_for(
                loop.create_connection(
                    lambda: SessionTab(self.group, f"{self.host}:{port}", session, record), self.host, port
                ),
                CONNECT_TIMEOUT_SECONDS,
            )
            await asyncio.wait_for(tab.subscribed, SET_UP_TIMEOUT_SECONDS)
        except (TimeoutError, OSError, ConnectionError) as error:
            record["failure"] = f"{type(error).__name__}: {error}"[:200]
            if tab is not None and tab.transport is not None:
                tab.closed = True
                tab.transport.abort()
            raise
        self.group.clients.append(tab)

    async def open(self, concurrency: int) -> tuple[int, list[str], int]:
        gate = asyncio.Semaphore(max(1, concurrency))
        failures: list[str] = []

        async def one(session: Session) -> None:
            async with gate:
                for attempt in range(3):
                    try:
                        await self.connect(session, self.port)
                        return
                    except (TimeoutError, OSError, ConnectionError) as error:
                        if attempt == 2:
                            failures.append(f"{type(error).__name__}: {error}"[:200])
                            return
                        self.retries += 1
                        await asyncio.sleep(0.7 + random.random())

        await asyncio.gather(*(one(session) for session in self.sessions))
        return len(self.group.clients), failures, self.retries

    def away(self, session: Session) -> None:
        session.sent_away = True
        asyncio.get_running_loop().create_task(self.come_back(session))

    async def come_back(self, session: Session) -> None:
        restart = session.close_code in RESTART_CLOSE_CODES
        await asyncio.sleep(retry_delay(0, session.after_ms if restart else None))
        attempt = 0
        while True:
            try:
                await self.connect(session, self.to_port)
                session.resumed.set_result(True)
                return
            except (TimeoutError, OSError, ConnectionError):
                # A process refusing for a moment (its waiting room, 1013)
                # says when to come back.
                await asyncio.sleep(retry_delay(attempt, session.connections[-1].get("after_ms")))
                attempt += 1

    async def all_resumed(self, timeout: float) -> bool:
        """Whether every session that was set up is set up again, within `timeout`."""
        deadline = time.monotonic() + timeout
        held = [s for s in self.sessions if any(c["done_at"] is not None for c in s.connections)]
        while not all(s.resumed.done() for s in held):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.1)
        return True


def session_process(conn, host: str, port: int, to_port: int, specs: list[dict], cpus) -> None:
    """Entry point of a process of sessions."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    asyncio.run(_serve(conn, host, port, to_port, specs))


async def _serve(conn, host: str, port: int, to_port: int, specs: list[dict]) -> None:
    sessions = Sessions(host, port, to_port, specs)

    async def session_command(command: tuple) -> bool:
        if command[0] == "open":
            conn.send(("opened", *(await sessions.open(command[1]))))
        elif command[0] == "resumed":
            task = sessions.all_resumed(command[1])
            asyncio.get_running_loop().create_task(_answer(conn, "resumed", task))
        elif command[0] == "sessions":
            conn.send(("sessions", [session.outcome() for session in sessions.sessions]))
        else:
            return False
        return True

    await answer_commands(conn, sessions.group, session_command)


async def _answer(conn, name: str, awaitable) -> None:
    conn.send((name, await awaitable))
