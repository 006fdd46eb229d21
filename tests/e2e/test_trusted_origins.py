"""Issue 16, item 4: a WebSocket's Origin must match an allowed origin
exactly; CSRF_TRUSTED_ORIGINS are allowed as Django's CSRF check allows them."""

import pytest
from websockets.exceptions import InvalidStatus

from .conftest import running_server, server_env
from .helpers import ping

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def trusting_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("trusted_origins")
    env = {
        **server_env(workdir),
        "CSRF_TRUSTED_ORIGINS": "https://app.example.com,https://*.example.org",
    }
    with running_server("trusting_server", env, workdir / "daphne.log") as server:
        yield server


@pytest.mark.parametrize(
    "origin", ["https://app.example.com", "https://eu.example.org", "HTTPS://App.Example.com:443"]
)
async def test_a_csrf_trusted_origin_may_open_a_socket(trusting_server, origin):
    async with trusting_server.connect("/ws/trending", headers={"Origin": origin}) as ws:
        await ws.recv()
        await ping(ws)


@pytest.mark.parametrize(
    "origin",
    ["http://app.example.com", "https://app.example.com:8443", "https://example.org.evil.example"],
)
async def test_a_near_miss_of_a_trusted_origin_is_refused(trusting_server, origin):
    with pytest.raises(InvalidStatus) as refused:
        async with trusting_server.connect("/ws/trending", headers={"Origin": origin}):
            pass
    assert refused.value.response.status_code == 403
