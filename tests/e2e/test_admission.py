"""The waiting room against a live server process: a burst of tabs over the
process's admission rate, each coming back when told (`reconnect` with
`after_ms`, close 1013, as the TypeScript client does), all end up
connected, paced at the rate, none told to wait longer than the cap."""

import asyncio
import json
import random
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from .conftest import running_server, server_env
from .helpers import MESSAGE_TIMEOUT, metric_value, recv_json

pytestmark = pytest.mark.asyncio

RATE = 20
# A second's worth: a client back late by less than burst / rate still finds
# its slot's token (tokens past the burst are not kept), even on a machine
# busy enough to make the clients here late.
BURST = 20
MAX_WAIT_SECONDS = 3


@pytest.fixture(scope="module")
def paced_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("admission")
    env = {
        **server_env(workdir),
        "REALTIME_ADMISSIONS_PER_SECOND": str(RATE),
        "REALTIME_ADMISSIONS_BURST": str(BURST),
        "REALTIME_ADMISSION_MAX_WAIT_SECONDS": str(MAX_WAIT_SECONDS),
    }
    with running_server("paced_server", env, workdir / "daphne.log") as server:
        yield server


class Tab:
    """A `/ws/` tab that reconnects after `after_ms` plus a little jitter on
    `reconnect` and 1013, and is set up once its trending subscription is."""

    def __init__(self, server):
        self.server = server
        self.waits: list[int] = []
        # When each `after_ms` told it to come back, on this process's clock.
        self.slots: list[float] = []
        self.ws = None

    async def open(self) -> "Tab":
        while True:
            try:
                ws = await self.server.connect("/ws/")
            except (InvalidHandshake, OSError, TimeoutError):
                # On a machine busy with other work a handshake can be
                # dropped before it reaches the application: a browser tries
                # again, after its backoff.
                await asyncio.sleep(0.5)
                continue
            first = json.loads(await asyncio.wait_for(ws.recv(), MESSAGE_TIMEOUT))
            if first["type"] == "welcome":
                await ws.send(json.dumps({"type": "subscribe", "stream": "trending"}))
                subscribed = await recv_json(ws)
                assert (subscribed["type"], subscribed["stream"]) == ("subscribed", "trending")
                self.ws = ws
                return self
            assert first["type"] == "reconnect", first
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), MESSAGE_TIMEOUT)
            assert closed.value.rcvd.code == 1013
            self.waits.append(first["data"]["after_ms"])
            self.slots.append(time.monotonic() + first["data"]["after_ms"] / 1000)
            await asyncio.sleep(first["data"]["after_ms"] / 1000 + random.uniform(0, 0.1))


async def burst(server, clients: int) -> list[Tab]:
    tabs = [Tab(server) for _ in range(clients)]
    await asyncio.wait_for(asyncio.gather(*(tab.open() for tab in tabs)), 30)
    return tabs


async def close_all(tabs: list[Tab]) -> None:
    await asyncio.gather(*(tab.ws.close() for tab in tabs))


def assert_no_traceback(server) -> None:
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, server.log_tail(80)


async def test_a_burst_coming_back_when_told_is_admitted_at_the_rate_without_retrying(paced_server):
    clients = 60  # their slots all fit under the cap
    refused_before = metric_value(paced_server, "realtime_handshakes_refused_total", reason="overload")
    started = time.monotonic()
    tabs = await burst(paced_server, clients)
    took = time.monotonic() - started
    waits = [tab.waits for tab in tabs]
    # A refused client finds its slot free on its return: no retry loop.
    # (A client made later than the burst allows, by a machine busy
    # elsewhere, may lose its slot once.)
    refused = sum(len(told) for told in waits)
    assert max(len(told) for told in waits) <= 2, waits
    assert refused <= clients, waits
    # All but the burst, and the few tokens that came back while the burst arrived.
    assert refused >= clients - 2 * BURST, waits
    # Paced: those past the burst came in at the rate, not at once.
    assert took >= (clients - BURST) / RATE * 0.9, took
    assert max(wait for told in waits for wait in told) <= MAX_WAIT_SECONDS * 1000
    # The first refusals' slots are spread at the rate (seen from here, so
    # less the lag of this process's own loop in reading them).
    slots = sorted(tab.slots[0] for tab in tabs if tab.slots)
    assert slots[-1] - slots[0] >= (len(slots) - 1) / RATE * 0.7, slots
    assert (
        metric_value(paced_server, "realtime_handshakes_refused_total", reason="overload")
        == refused_before + refused
    )
    await close_all(tabs)
    assert_no_traceback(paced_server)


async def test_a_burst_past_the_cap_all_connects_none_told_to_wait_longer(paced_server):
    await asyncio.sleep(BURST / RATE)  # the bucket full again after the test before
    clients = 140  # their slots would reach well past the cap
    tabs = await burst(paced_server, clients)
    waits = [wait for tab in tabs for wait in tab.waits]
    assert max(waits) <= MAX_WAIT_SECONDS * 1000, waits
    # Some were sent to the cap and queued again on their return.
    assert sum(wait == MAX_WAIT_SECONDS * 1000 for wait in waits) > 0, waits
    await close_all(tabs)
    assert_no_traceback(paced_server)
