"""Issue 16, item 1: one notion of the client's address, which a client
cannot choose by sending X-Forwarded-For.

Each test attacks from an address of its own on loopback (the limits are
per address and per process), and shows that another client, on
OTHER_CLIENT_ADDRESS, is not limited by the attack.
"""

import pytest

from .conftest import limited_env, running_server, server_env
from .helpers import OTHER_CLIENT_ADDRESS, wrong_sign_in

# A small budget keeps the test fast: each wrong password costs a hash.
RATE = 5


@pytest.fixture(scope="module")
def direct_server(tmp_path_factory):
    """Daphne as `make run` starts it, trusting no proxy, at 5 sign-ins a minute."""
    workdir = tmp_path_factory.mktemp("client_address")
    env = {**limited_env(server_env(workdir)), "API_CREDENTIALS_RATE": f"{RATE}/minute"}
    with running_server("direct_server", env, workdir / "daphne.log") as server:
        yield server


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory):
    """Daphne that trusts a proxy on 127.0.0.1 (as behind deploy/'s nginx)."""
    workdir = tmp_path_factory.mktemp("client_address_proxied")
    env = {
        **limited_env(server_env(workdir)),
        "API_CREDENTIALS_RATE": f"{RATE}/minute",
        "TRUSTED_PROXIES": "127.0.0.1",
    }
    with running_server("proxied_server", env, workdir / "daphne.log") as server:
        yield server


def register(server, *, source_address, forwarded_for=None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    # Invalid on purpose (no password): the limit counts before validation.
    status, _ = server.api(
        "POST",
        "/api/auth/register/",
        body={"username": "somebody"},
        headers=headers,
        source_address=source_address,
    )
    return status


def test_x_forwarded_for_does_not_reset_the_sign_in_limit(direct_server):
    attacker = "127.0.1.1"
    statuses = [
        wrong_sign_in(direct_server, source_address=attacker, forwarded_for=f"10.0.{n}.1")
        for n in range(RATE + 3)
    ]
    assert statuses == [401] * RATE + [429] * 3
    assert wrong_sign_in(direct_server, source_address=OTHER_CLIENT_ADDRESS) == 401


def test_x_forwarded_for_does_not_reset_the_registration_limit(direct_server):
    attacker = "127.0.1.2"
    statuses = [
        register(direct_server, source_address=attacker, forwarded_for=f"10.1.{n}.1, 127.0.0.1")
        for n in range(RATE + 3)
    ]
    assert statuses == [400] * RATE + [429] * 3


def test_x_forwarded_for_from_a_client_that_is_not_a_trusted_proxy_is_ignored(proxied_server):
    attacker = "127.0.1.3"
    statuses = [
        wrong_sign_in(proxied_server, source_address=attacker, forwarded_for=f"10.2.{n}.1")
        for n in range(RATE + 1)
    ]
    assert statuses[-1] == 429


def test_a_trusted_proxy_names_the_client_by_the_rightmost_entry(proxied_server):
    # 127.0.0.1 is the trusted proxy: what it appended is believed, what
    # the client wrote before it is not.
    proxy = "127.0.0.1"
    limited = [
        wrong_sign_in(proxied_server, source_address=proxy, forwarded_for=f"9.9.9.{n}, 198.51.100.7")
        for n in range(RATE + 1)
    ]
    assert limited[-1] == 429
    assert wrong_sign_in(proxied_server, source_address=proxy, forwarded_for="198.51.100.8") == 401
