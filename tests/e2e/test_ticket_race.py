"""A WebSocket ticket opens one socket, once, and only while it is fresh.

A ticket (POST /api/auth/ws-ticket/) is what a page puts in `?ticket=`
instead of its token, so that the credential in a URL (access logs, proxies,
browser history) is spent on first use. A client holding one ticket must not
turn it into several connections by opening them all at the same instant:
of the handshakes that race with one ticket, the one whose DELETE removed
the row is served and every other is closed with 4401 (tickets.ticket_redeem).

Within one Daphne process every handshake's database read runs on asgiref's
single database thread, so redemptions there are taken one at a time; the
real race is between processes sharing the database, as in production. The
race is therefore run on one process (as a client on a single server would
try it) and, round after round, across the two processes of the PostgreSQL
cluster, where a redemption that trusted its SELECT and ignored what its
DELETE removed served two sockets in about half of the rounds. And a
ticket older than REALTIME_TICKET_SECONDS (30 by default) is refused, so one
read out of a log later opens nothing.

These pin a defence that held against an outside attack: they pass on the
current code and fail if redemption stops checking what its DELETE removed,
stops deleting, or stops checking the expiry.
"""

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed

from .conftest import running_server, server_env
from .helpers import MESSAGE_TIMEOUT, expect_close, ping

pytestmark = pytest.mark.asyncio

SOCKETS = 10
ROUNDS = 10
SERVED = "served"


def issue_ticket(server, account) -> str:
    status, body = server.api("POST", "/api/auth/ws-ticket/", account.token)
    assert status == 201, (status, body)
    return body["ticket"]


async def outcome(ws) -> str | int:
    """SERVED if the socket answers a ping, else the code the server closed it with."""
    try:
        await ws.send("ping")
        message = json.loads(await asyncio.wait_for(ws.recv(), MESSAGE_TIMEOUT))
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the connection dropped without a close frame"
        return closed.rcvd.code
    assert message["type"] == "pong", message
    return SERVED


async def race_one_ticket(servers, account, ticket: str) -> list[str | int]:
    """Open SOCKETS sockets with `ticket` at once, spread over `servers`; return their outcomes."""
    path = f"/ws/notifications/{account.user_id}"
    handshakes = [
        servers[index % len(servers)].connect(path, query={"ticket": ticket}) for index in range(SOCKETS)
    ]
    sockets = await asyncio.gather(*handshakes)
    try:
        return list(await asyncio.gather(*(outcome(ws) for ws in sockets)))
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))


def assert_served_once(outcomes: list) -> None:
    assert outcomes.count(SERVED) == 1, outcomes
    assert [code for code in outcomes if code != SERVED] == [4401] * (SOCKETS - 1), outcomes


async def test_one_ticket_opens_one_of_ten_sockets_opened_at_once(live_server):
    account = live_server.register()
    ticket = issue_ticket(live_server, account)
    assert_served_once(await race_one_ticket([live_server], account, ticket))


async def test_one_ticket_opens_one_socket_across_processes(cluster):
    first, second = cluster.servers
    account = first.register()
    # Both processes' database threads connected already, so that their
    # redemptions of a ticket start as close together as a client can make them.
    for server in cluster.servers:
        async with server.connect(f"/ws/notifications/{account.user_id}", account.token) as ws:
            await ping(ws)
    # A redemption that trusts its SELECT serves two sockets in about half of
    # the rounds: enough rounds that it cannot slip through.
    for _round in range(ROUNDS):
        ticket = issue_ticket(first, account)
        assert_served_once(await race_one_ticket([first, second], account, ticket))


async def test_a_ticket_older_than_its_lifetime_is_refused(tmp_path):
    env = {**server_env(tmp_path), "REALTIME_TICKET_SECONDS": "1"}
    with running_server("short_tickets", env, tmp_path / "daphne.log") as server:
        account = server.register()
        path = f"/ws/notifications/{account.user_id}"
        # A fresh one is served: the server does take one-second tickets.
        async with server.connect(path, query={"ticket": issue_ticket(server, account)}) as ws:
            await ping(ws)

        stale = issue_ticket(server, account)
        await asyncio.sleep(1.5)
        async with server.connect(path, query={"ticket": stale}) as ws:
            await expect_close(ws, 4401)
