"""Issue 16 through the documented nginx layout (deploy/): the client's
address cannot be forged through it, it limits WebSockets per address, and
it does not publish /metrics.

nginx listens on 127.0.0.1 and reaches Daphne from 127.0.0.1, Daphne's
TRUSTED_PROXIES; attackers and the other client connect to nginx from
addresses of their own on loopback.
"""

from contextlib import AsyncExitStack

import pytest
from websockets.exceptions import InvalidStatus

from .conftest import free_port, limited_env, render_nginx, running_nginx, running_server, server_env
from .helpers import OTHER_CLIENT_ADDRESS, http_request, ping, wrong_sign_in

pytestmark = pytest.mark.asyncio

RATE = 5


@pytest.fixture(scope="module")
def proxied_daphne(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("nginx_hostile_daphne")
    env = {
        **limited_env(server_env(workdir)),
        "API_CREDENTIALS_RATE": f"{RATE}/minute",
        "TRUSTED_PROXIES": "127.0.0.1",
    }
    with running_server("proxied_daphne", env, workdir / "daphne.log") as server:
        yield server


@pytest.fixture(scope="module")
def front(proxied_daphne, tmp_path_factory):
    """The documented nginx, with small WebSocket limits to reach them fast."""
    prefix = tmp_path_factory.mktemp("nginx_hostile")
    port = free_port()
    config = prefix / "nginx.conf"
    config.write_text(
        render_nginx(
            "--prefix",
            str(prefix),
            "--listen",
            f"127.0.0.1:{port}",
            "--upstream",
            f"127.0.0.1:{proxied_daphne.port}",
            "--websockets-per-address",
            "5",
            "--handshakes-per-second",
            "2",
            "--handshake-burst",
            "8",
        )
    )
    with running_nginx([proxied_daphne], prefix, proxied_daphne.env, config=config, port=port) as nginx:
        yield nginx


async def test_x_forwarded_for_through_nginx_does_not_reset_the_sign_in_limit(front):
    attacker = "127.0.4.1"
    statuses = [
        wrong_sign_in(front, source_address=attacker, forwarded_for=f"10.3.{n}.1") for n in range(RATE + 2)
    ]
    assert statuses == [401] * RATE + [429] * 2
    assert wrong_sign_in(front, source_address=OTHER_CLIENT_ADDRESS) == 401


async def test_metrics_are_not_published_through_nginx(front, proxied_daphne):
    assert http_request(front.http_url + "/metrics")[0] == 404
    # Each process still serves them to the operator's network.
    assert http_request(proxied_daphne.http_url + "/metrics")[0] == 200


async def test_nginx_limits_open_websockets_per_address(front):
    attacker = "127.0.4.2"
    async with AsyncExitStack() as stack:
        for _ in range(5):
            ws = await stack.enter_async_context(front.connect("/ws/trending", source_address=attacker))
            await ws.recv()
        with pytest.raises(InvalidStatus) as refused:
            async with front.connect("/ws/trending", source_address=attacker):
                pass
        assert refused.value.response.status_code == 429
        async with front.connect("/ws/trending", source_address=OTHER_CLIENT_ADDRESS) as ws:
            await ws.recv()
            await ping(ws)


async def test_nginx_limits_handshakes_per_address(front):
    attacker = "127.0.4.3"

    async def handshake() -> int:
        try:
            async with front.connect("/ws/trending", source_address=attacker) as ws:
                await ws.recv()
                return 101
        except InvalidStatus as refused:
            return refused.response.status_code

    outcomes = []
    for _ in range(20):
        outcomes.append(await handshake())
    assert outcomes.count(429) >= 8, outcomes
    assert outcomes[:8] == [101] * 8, outcomes
