"""The soak of issue 5, small enough for `make test`: 60 readers (120
WebSockets) connect, read, stall, drop and reconnect at random with
`?since=` on their notifications and feed streams for 20 s, while 12 writers
post, mention, reply, like, unlike, follow and unfollow through REST. Then
every notification and feed item the database holds for every reader must
have reached it exactly once, in order, replays included.

bench/soak.py is the engine (and the longer run, with its parameters
documented there); docs/RELIABILITY.md has the figures of both.
"""

import json

import pytest

from bench.soak import SERVER_ENV, STREAMS, Soak, SoakConfig, accounts_by_manage, clean

from .conftest import running_server, server_env
from .helpers import wait_for_stats

pytestmark = pytest.mark.asyncio

CONFIG = SoakConfig(readers=60, writers=12, duration=20, follows=4, seed=5, ramp=2)


@pytest.fixture(scope="module")
def soak_server(tmp_path_factory):
    """A Daphne whose throttles do not slow the writers down, and whose
    replay cap a reader away for a while does not reach."""
    workdir = tmp_path_factory.mktemp("soak")
    env = server_env(workdir)
    env.update(SERVER_ENV)
    with running_server("soak_server", env, workdir / "daphne.log") as server:
        yield server


async def test_every_notification_and_feed_item_arrives_exactly_once_in_order(soak_server, record_property):
    # Users straight into the server's database: sign-up hashes passwords
    # for a third of a second each, and is tested elsewhere.
    make_accounts = accounts_by_manage(soak_server.env)
    report = await Soak(soak_server.http_url, CONFIG, make_accounts=make_accounts).run()
    for key in ("rest_actions", "rest_actions_per_second", "acting_seconds"):
        record_property(key, report[key])
    summary = {
        stream: {
            key: report["streams"][stream][key]
            for key in (
                "items_in_database",
                "items_received",
                "reconnects",
                "client_drops",
                "client_stalls",
                "server_closes",
                "failed_handshakes",
                "lost",
                "duplicates",
                "strays",
                "out_of_order_readers",
            )
        }
        for stream in STREAMS
    }
    record_property("streams", summary)
    details = json.dumps(report, indent=1)

    # The soak did what it claims: writers acted, readers came and went.
    assert report["rest_failures"] == 0, details
    assert report["rest_actions"] >= 10 * CONFIG.writers, details
    for stream in STREAMS:
        figures = report["streams"][stream]
        assert figures["items_in_database"] > CONFIG.readers, details
        assert figures["reconnects"] >= CONFIG.readers, details
        assert figures["client_drops"] and figures["client_stalls"], details
        assert not figures["errors"], details

    assert clean(report), f"delivery was not exactly once, in order: {summary}\n{details}"

    # The server is fine, and forgot every connection.
    assert soak_server.api("GET", "/healthz")[0] == 200
    zero = {
        "active_users": 0,
        "total_user_connections": 0,
        "global_connections": 0,
        "total_connections": 0,
    }
    await wait_for_stats(soak_server, zero, timeout=5)
