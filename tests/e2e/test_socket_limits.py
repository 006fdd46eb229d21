"""Issue 16, item 2: one address cannot take the server down by holding or
opening WebSockets, and the server keeps descriptors for everything else.

Each attack comes from an address of its own on loopback; a client on
OTHER_CLIENT_ADDRESS is served normally throughout.
"""

import asyncio
import time
from contextlib import AsyncExitStack

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from .conftest import limited_env, running_server, server_env
from .helpers import (
    MESSAGE_TIMEOUT,
    OTHER_CLIENT_ADDRESS,
    expect_close,
    http_request,
    metric_value,
    ping,
    wait_until,
)

pytestmark = pytest.mark.asyncio

PER_ADDRESS = 256  # settings.REALTIME_MAX_SOCKETS_PER_ADDRESS's default


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory):
    """The default per-address cap; handshakes unthrottled, to reach it fast."""
    workdir = tmp_path_factory.mktemp("socket_cap")
    env = {
        **limited_env(server_env(workdir)),
        "REALTIME_HANDSHAKES_PER_SECOND": "100000",
        "REALTIME_HANDSHAKES_BURST": "100000",
    }
    with running_server("capped_server", env, workdir / "daphne.log") as server:
        yield server


@pytest.fixture(scope="module")
def rate_limited_server(tmp_path_factory):
    """Every per-address limit at its default."""
    workdir = tmp_path_factory.mktemp("handshake_rate")
    with running_server(
        "rate_limited_server", limited_env(server_env(workdir)), workdir / "daphne.log"
    ) as server:
        yield server


async def open_trending(stack: AsyncExitStack, server, source_address: str):
    ws = await stack.enter_async_context(server.connect("/ws/trending", source_address=source_address))
    await ws.recv()  # the snapshot: the socket is open and served
    return ws


async def first_pong_seconds(server) -> float:
    started = time.monotonic()
    async with server.connect("/ws/trending", source_address=OTHER_CLIENT_ADDRESS) as ws:
        await ws.recv()
        await ping(ws)
    return time.monotonic() - started


async def test_one_address_cannot_hold_more_than_its_share_of_sockets(capped_server):
    attacker = "127.0.2.1"
    async with AsyncExitStack() as stack:
        held = [await open_trending(stack, capped_server, attacker) for _ in range(PER_ADDRESS)]
        async with capped_server.connect("/ws/trending", source_address=attacker) as refused:
            await expect_close(refused, 4429)
        # Another client is served while the attacker is at its cap.
        assert await first_pong_seconds(capped_server) < MESSAGE_TIMEOUT
        # A socket closed frees its place.
        await held.pop().close()
        await wait_until(
            lambda: (
                metric_value(capped_server, "realtime_connections_open", stream="trending") <= PER_ADDRESS
            ),
            timeout=5,
        )
        await open_trending(stack, capped_server, attacker)
    assert metric_value(capped_server, "realtime_handshakes_refused_total", reason="address_cap") >= 1


async def test_refusals_are_logged_once_per_address_per_minute(capped_server):
    attacker = "127.0.2.2"
    async with AsyncExitStack() as stack:
        for _ in range(PER_ADDRESS):
            await open_trending(stack, capped_server, attacker)
        for _ in range(5):
            async with capped_server.connect("/ws/trending", source_address=attacker) as refused:
                await expect_close(refused, 4429)
    lines = [
        line
        for line in capped_server.log_path.read_text().splitlines()
        if "refusing WebSockets from 127.0.2.2" in line
    ]
    assert len(lines) == 1, lines


async def handshake(server, source_address: str) -> str:
    """Open a trending socket; return "open", or the close code it got."""
    try:
        async with server.connect("/ws/trending", source_address=source_address) as ws:
            try:
                await asyncio.wait_for(ws.recv(), MESSAGE_TIMEOUT)
                return "open"
            except ConnectionClosed as closed:
                return str(closed.rcvd.code if closed.rcvd else "dropped")
    except (InvalidStatus, OSError, TimeoutError) as error:
        return type(error).__name__


async def test_a_handshake_flood_from_one_address_is_refused_and_others_are_served(
    rate_limited_server,
):
    attacker = "127.0.2.3"
    flood = [asyncio.create_task(handshake(rate_limited_server, attacker)) for _ in range(400)]
    # Another client's first pong, while the flood is under way.
    await asyncio.sleep(0.2)
    other_client = await first_pong_seconds(rate_limited_server)
    outcomes = await asyncio.gather(*flood)
    opened, refused = outcomes.count("open"), outcomes.count("4429")
    assert opened + refused == len(outcomes), set(outcomes)
    # The burst (100) and a few seconds' worth of the rate (20/s) got in.
    assert 100 <= opened <= 250, outcomes
    assert other_client < 2.0
    assert (
        metric_value(rate_limited_server, "realtime_handshakes_refused_total", reason="address_rate")
        >= refused
    )


async def test_past_the_descriptor_reserve_sockets_are_refused_but_rest_and_health_work(
    tmp_path_factory,
):
    workdir = tmp_path_factory.mktemp("descriptors")
    env = {
        **limited_env(server_env(workdir)),
        "REALTIME_HANDSHAKES_PER_SECOND": "100000",
        "REALTIME_HANDSHAKES_BURST": "100000",
        "REALTIME_MAX_SOCKETS_PER_ADDRESS": "100",
        "REALTIME_DESCRIPTOR_RESERVE": "100",
    }
    # Soft 256, hard 400: the server raises the soft limit to 400 itself,
    # and so takes 400 - 100 = 300 WebSockets.
    with running_server("descriptor_server", env, workdir / "daphne.log", nofile=(256, 400)) as server:
        limits = open(f"/proc/{server.process.pid}/limits").read()
        async with AsyncExitStack() as stack:
            for address in ("127.0.3.1", "127.0.3.2", "127.0.3.3"):
                for _ in range(100):
                    await open_trending(stack, server, address)
            assert (
                "Max open files            400                  400"
                in open(f"/proc/{server.process.pid}/limits").read()
            ), limits
            async with server.connect("/ws/trending", source_address="127.0.3.4") as refused:
                await expect_close(refused, 1013)
            # Everything else still works, for anyone.
            assert http_request(server.http_url + "/healthz", source_address=OTHER_CLIENT_ADDRESS)[0] == 200
            assert http_request(server.http_url + "/readyz", source_address=OTHER_CLIENT_ADDRESS)[0] == 200
            account = server.register()
            status, _ = server.api(
                "POST",
                "/api/tweets/",
                account.token,
                {"content": "still up"},
                source_address=OTHER_CLIENT_ADDRESS,
            )
            assert status == 201
        assert metric_value(server, "realtime_handshakes_refused_total", reason="descriptors") == 1
        assert metric_value(server, "realtime_websockets_max") == 300
