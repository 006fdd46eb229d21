"""No credential reaches a log line (issue 5, "Nobody let in").

A server run at its most verbose (LOG_LEVEL=DEBUG, Daphne's access log on
stdout as by default) is given tokens and tickets every way a client may
send them: `?token=` and `?ticket=` on accepted, refused and malformed
WebSocket handshakes, and `Authorization: Token` on REST calls, including
the call that issues a ticket. Then its whole output is searched for them.
"""

import asyncio
import base64
import os
import socket

import pytest
from websockets.exceptions import InvalidStatus

from .conftest import running_server, server_env
from .helpers import MESSAGE_TIMEOUT, expect_close, ping, recv_data

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def verbose_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("log_secrets")
    env = server_env(workdir)
    env["LOG_LEVEL"] = "DEBUG"
    with running_server("verbose_server", env, workdir / "daphne.log") as server:
        yield server


def issue_ticket(server, account) -> str:
    status, body = server.api("POST", "/api/auth/ws-ticket/", account.token)
    assert status == 201, (status, body)
    return body["ticket"]


def raw_handshake(server, target: str, *, key: bool = True) -> bytes:
    """Send a WebSocket handshake for `target` by hand; return the status line."""
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Version: 13",
    ]
    if key:
        lines.append(f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}")
    with socket.create_connection(("127.0.0.1", server.port), timeout=MESSAGE_TIMEOUT) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = sock.recv(4096)
    return answer.split(b"\r\n", 1)[0]


async def test_tokens_and_tickets_never_reach_the_log(verbose_server):
    server = verbose_server
    start = log_size(server)
    me, other = server.register(), server.register()
    secrets = {me.token, other.token}

    # REST with the token in the Authorization header, reads and writes.
    tweet = server.post_tweet(me, "a tweet to watch")
    server.follow(other, me)
    assert server.api("GET", "/api/notifications/", me.token)[0] == 200
    assert server.api("GET", "/api/feed/", other.token)[0] == 200
    assert server.api("GET", "/api/auth/me/", me.token)[0] == 200

    # Accepted streams, by token and by ticket.
    for path in (f"/ws/notifications/{me.user_id}", f"/ws/feed/{me.user_id}"):
        async with server.connect(path, me.token) as ws:
            await ping(ws)
        ticket = issue_ticket(server, me)
        secrets.add(ticket)
        async with server.connect(path, query={"ticket": ticket}) as ws:
            await ping(ws)
    async with server.connect(f"/ws/engagement/{tweet['tweet_id']}", me.token) as ws:
        await recv_data(ws, "engagement_update")
    async with server.connect("/ws/trending", query={"ticket": issue_ticket(server, other)}) as ws:
        await recv_data(ws, "trending")

    # Refused after the handshake: another user's stream (4403), a ticket
    # already spent above and a wrong token (4401), no such stream (4404).
    async with server.connect(f"/ws/feed/{other.user_id}", me.token) as ws:
        await expect_close(ws, 4403)
    async with server.connect(f"/ws/feed/{me.user_id}", query={"ticket": ticket}) as ws:
        await expect_close(ws, 4401)
    wrong = me.token[::-1]
    secrets.add(wrong)
    async with server.connect(f"/ws/feed/{me.user_id}", wrong) as ws:
        await expect_close(ws, 4401)
    async with server.connect("/ws/nowhere", me.token) as ws:
        await expect_close(ws, 4404)

    # Refused at the handshake: a foreign Origin.
    fresh = issue_ticket(server, me)
    secrets.add(fresh)
    with pytest.raises(InvalidStatus):
        async with server.connect(
            f"/ws/feed/{me.user_id}",
            query={"ticket": fresh},
            headers={"Origin": "http://evil.example"},
        ):
            pass

    # A malformed handshake (no Sec-WebSocket-Key) carries the token in its
    # request line too, and is refused before any application code runs.
    status_line = await asyncio.to_thread(
        raw_handshake, server, f"/ws/notifications/{me.user_id}?token={me.token}", key=False
    )
    assert status_line.startswith(b"HTTP/1.1 4"), status_line

    log = await log_since(server, start)
    assert "WSCONNECT /ws/feed/" in log and '"GET /api/feed/"' in log, "the access log is missing"
    # The path of a closing socket is logged from what is kept of its
    # handshake once it is open (realtime/server/websocket.py).
    assert "WSDISCONNECT /ws/feed/" in log, "the access log lost the path of closing sockets"
    assert "DEBUG" in log, "the server did not log at DEBUG level"
    assert_absent(secrets, log)


async def test_stream_url_fetched_without_upgrade_keeps_its_token_out_of_the_log(verbose_server):
    """A handshake whose Upgrade header a proxy dropped (or a client that
    fetched the ws:// URL over http://) reaches Daphne as a plain GET. The
    answer is a 404, and Daphne's access log must not write its query."""
    server = verbose_server
    me = server.register()
    start = log_size(server)
    status, _ = server.api("GET", f"/ws/feed/{me.user_id}?token={me.token}")
    assert status == 404
    ticket = issue_ticket(server, me)
    status, _ = server.api("GET", f"/ws/notifications/{me.user_id}?ticket={ticket}")
    assert status == 404
    log = await log_since(server, start)
    assert f'"GET /ws/feed/{me.user_id}' in log, "the access log is missing"
    assert_absent({me.token, ticket}, log)


def log_size(server) -> int:
    return server.log_path.stat().st_size


async def log_since(server, offset: int) -> str:
    """What the server logged after `offset`, once it has written the last line."""
    await asyncio.sleep(0.3)
    with open(server.log_path, "rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def assert_absent(secrets: set[str], log: str) -> None:
    for secret in secrets:
        leaks = [line for line in log.splitlines() if secret in line]
        assert not leaks, f"a credential appears in {len(leaks)} log line(s), e.g. {leaks[0]!r}"
