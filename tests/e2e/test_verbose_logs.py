"""No credential in the output of a server at its most verbose (issue 16).

test_log_secrets.py covers LOG_LEVEL=DEBUG at Daphne's default verbosity.
Here Daphne runs with `-v 2` and `-v 3` as well, which turns on Twisted's
log (its own request log with the whole request line, Referer and
User-Agent; autobahn's handshake failures; anything written to stdout or
stderr), and for `-v 3` asyncio's debug mode. Every way a client may send
a credential is used on accepted, refused and malformed WebSocket
handshakes and on plain HTTP requests: `?token=`, `?ticket=`, the same
percent-encoded into the path, `Authorization: Token`, `Authorization:
Bearer` (the metrics token), session and CSRF cookies, a password. Then the
whole output is searched for every one of them.

And the access log names a request's client as the rest of the project
does (realtime/middleware/client_address.py): the address a trusted proxy forwards,
never one a client wrote itself.
"""

import asyncio
import base64
import http.cookiejar
import os
import socket
import uuid

import pytest
from websockets.exceptions import InvalidStatus

from .conftest import migrate, running_server, server_env, start_daphne, stop_process
from .helpers import (
    MESSAGE_TIMEOUT,
    OTHER_CLIENT_ADDRESS,
    PASSWORD,
    expect_close,
    http_request,
    ping,
)

pytestmark = pytest.mark.asyncio

METRICS_TOKEN = "metrics-" + uuid.uuid4().hex


@pytest.fixture(scope="module", params=["2", "3"], ids=["v2", "v3"])
def loud_server(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"verbose_logs_v{request.param}")
    env = server_env(workdir)
    env.update(LOG_LEVEL="DEBUG", METRICS_TOKEN=METRICS_TOKEN)
    log_path = workdir / "daphne.log"
    migrate(env, log_path)
    server = start_daphne("loud_server", env, log_path, extra_args=("-v", request.param))
    try:
        yield server
    finally:
        died = server.process.poll()
        stop_process(server.process)
    if died is not None:
        pytest.fail(f"loud_server died during the tests (exit {died}):\n{server.log_tail()}")


def raw_request(server, lines: list[str]) -> bytes:
    """Send a request by hand; return the server's first answer bytes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=MESSAGE_TIMEOUT) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            return sock.recv(4096)
        except (TimeoutError, ConnectionResetError):
            return b""


def handshake(server, target: str, *extra: str, key: bool = True, method: str = "GET") -> list[str]:
    lines = [
        f"{method} {target} HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Version: 13",
        *extra,
    ]
    if key:
        lines.append(f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}")
    return lines


def issue_ticket(server, account) -> str:
    status, body = server.api("POST", "/api/auth/ws-ticket/", account.token)
    assert status == 201, (status, body)
    return body["ticket"]


async def test_no_credential_reaches_the_output_of_a_verbose_daphne(loud_server):
    server = loud_server
    with open(server.log_path, "rb") as log:
        start = len(log.read())
    me, other = server.register(), server.register()
    wrong_token = "wrong-" + uuid.uuid4().hex
    secrets = {me.token, other.token, wrong_token, METRICS_TOKEN, PASSWORD}
    cookies = http.cookiejar.CookieJar()
    server.browser_sign_in(me, cookies)
    jar = {cookie.name: cookie.value for cookie in cookies}
    secrets |= {jar["sessionid"], jar["csrftoken"]}
    cookie_header = f"sessionid={jar['sessionid']}; csrftoken={jar['csrftoken']}"
    feed = f"/ws/feed/{me.user_id}"

    # Plain HTTP: the Authorization header, a cookie, a bearer token, and
    # stream URLs with their credential fetched without an upgrade, one
    # with a Referer that carries a token too.
    assert server.api("GET", "/api/auth/me/", me.token)[0] == 200
    assert server.api("GET", "/api/auth/me/", wrong_token)[0] == 401
    assert server.api("GET", "/api/auth/me/", headers={"Cookie": cookie_header})[0] == 200
    status, _, _ = http_request(
        server.http_url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert status == 200
    assert server.api("GET", f"{feed}?token={me.token}")[0] == 404
    status, _ = server.api(
        "GET",
        f"{feed}?ticket={issue_ticket(server, me)}",
        headers={"Referer": f"{server.http_url}/?token={other.token}"},
    )
    assert status == 404
    # The query's `?` percent-encoded: the whole credential is in the path.
    assert server.api("GET", f"{feed}%3Ftoken%3D{me.token}")[0] == 404

    # Accepted streams: by token, ticket and session cookie.
    async with server.connect(feed, me.token) as ws:
        await ping(ws)
    ticket = issue_ticket(server, me)
    secrets.add(ticket)
    async with server.connect(feed, query={"ticket": ticket}) as ws:
        await ping(ws)
    async with server.connect(feed, headers={"Cookie": cookie_header}) as ws:
        await ping(ws)

    # Refused after the handshake: a spent ticket, a wrong token, another
    # user's stream, a path with its `?` encoded.
    async with server.connect(feed, query={"ticket": ticket}) as ws:
        await expect_close(ws, 4401)
    async with server.connect(feed, wrong_token) as ws:
        await expect_close(ws, 4401)
    async with server.connect(f"/ws/feed/{other.user_id}", me.token) as ws:
        await expect_close(ws, 4403)
    async with server.connect(f"{feed}%3Fticket%3D{issue_ticket(server, me)}") as ws:
        await expect_close(ws, 4401)

    # Refused at the handshake: a foreign Origin.
    refused = issue_ticket(server, me)
    secrets.add(refused)
    with pytest.raises(InvalidStatus):
        async with server.connect(feed, query={"ticket": refused}, headers={"Origin": "http://evil.example"}):
            pass

    # Malformed handshakes, each carrying credentials in its URL and headers.
    credentials = (f"Authorization: Token {me.token}", f"Cookie: {cookie_header}")
    malformed = [
        handshake(server, f"{feed}?token={me.token}", *credentials, key=False),
        handshake(server, f"{feed}?token={me.token}", *credentials, "Sec-WebSocket-Version: 8"),
        handshake(server, f"{feed}?token={me.token}#ticket={ticket}", *credentials),
        handshake(server, f"{feed}?token={me.token}", *credentials, method="POST"),
        handshake(server, f"{feed}?token={me.token}", *credentials, "Host: evil:port"),
        [f"GET {feed}?token={me.token} HTTP/1.1", "Host: 127.0.0.1", "Bad Header Line"],
    ]
    for lines in malformed:
        answer = await asyncio.to_thread(raw_request, server, lines)
        assert not answer.startswith(b"HTTP/1.1 101"), (lines, answer)

    await asyncio.sleep(0.5)
    with open(server.log_path, "rb") as log:
        log.seek(start)
        output = log.read().decode(errors="replace")
    # The server was as verbose as asked: debug lines, Twisted's request log.
    assert " DEBUG " in output, "no DEBUG line"
    assert "daphne.server" in output and f'"GET {feed}' in output, "Twisted's log is missing"
    leaks = {
        secret: [line for line in output.splitlines() if secret in line][:2]
        for secret in secrets
        if secret in output
    }
    assert not leaks, f"{len(leaks)} credential(s) in the output: {leaks}"


# --- Who the access log names -----------------------------------------------------


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory):
    """A Daphne that trusts a reverse proxy on 127.0.0.1 (nginx's place)."""
    workdir = tmp_path_factory.mktemp("access_log_client")
    env = {**server_env(workdir), "TRUSTED_PROXIES": "127.0.0.1"}
    with running_server("proxied_server", env, workdir / "daphne.log") as server:
        yield server


def access_line(output: str, request: str) -> str:
    lines = [line for line in output.splitlines() if f'"{request}"' in line]
    assert len(lines) == 1, f"{request}: {lines or output[-2000:]}"
    return lines[0]


async def test_access_log_names_the_client_a_trusted_proxy_forwards_never_a_forged_one(
    proxied_server,
):
    server = proxied_server
    with open(server.log_path, "rb") as log:
        start = len(log.read())
    # From the proxy: the rightmost address it did not add itself.
    forwarded = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    assert server.api("GET", "/api/nowhere-proxied/", headers=forwarded)[0] == 404
    # Refused by Daphne's own limits before Django: named the same way.
    answer = await asyncio.to_thread(
        raw_request,
        server,
        [
            "POST /api/nowhere-too-large/ HTTP/1.1",
            f"Host: 127.0.0.1:{server.port}",
            "X-Forwarded-For: 203.0.113.9",
            "Content-Length: 300000000",
        ],
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer
    # From a client that is no proxy, writing the header itself: not believed.
    forged = {"X-Forwarded-For": "203.0.113.66"}
    status, _ = server.api("GET", "/api/nowhere-forged/", headers=forged, source_address=OTHER_CLIENT_ADDRESS)
    assert status == 404

    await asyncio.sleep(0.3)
    with open(server.log_path, "rb") as log:
        log.seek(start)
        output = log.read().decode(errors="replace")
    assert access_line(output, "GET /api/nowhere-proxied/").startswith("203.0.113.9:0 ")
    assert access_line(output, "POST /api/nowhere-too-large/").startswith("203.0.113.9:0 ")
    assert access_line(output, "GET /api/nowhere-forged/").startswith(f"{OTHER_CLIENT_ADDRESS}:")
    assert "203.0.113.66" not in output
