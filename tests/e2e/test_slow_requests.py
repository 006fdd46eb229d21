"""Hostile HTTP clients against Daphne itself, with no nginx in front
(issue 16): headers sent a byte at a time (slowloris), connections that send
nothing, and bodies far larger than any request of the API, announced or
chunked. Each is answered or closed within its limit
(realtime/server/http.py), while another client is served, and the
clients that are merely slow or keep their connection alive are not hurt.
"""

import asyncio
import json
import select
import socket
import time

import pytest

from .conftest import running_server, server_env
from .helpers import MESSAGE_TIMEOUT, OTHER_CLIENT_ADDRESS, http_request, ping

pytestmark = pytest.mark.asyncio

# Short, so that the tests need not wait the default 10 s.
HEADER_TIMEOUT = 1.0
MAX_REQUEST_BYTES = 1 << 20
SLOWLORIS_SOCKETS = 200
# How late past its deadline a cut may come (the reactor is busy with the
# other sockets, the machine with other tests).
SLACK = 2.0


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slow_requests")
    env = server_env(workdir)
    env.update(
        REALTIME_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        REALTIME_MAX_REQUEST_BYTES=str(MAX_REQUEST_BYTES),
    )
    with running_server("guarded_server", env, workdir / "daphne.log") as server:
        yield server


async def read_until_closed(reader: asyncio.StreamReader, timeout: float) -> bytes | None:
    """Everything the server sends until it closes the connection; None if
    it has not closed it within `timeout`."""
    received = b""
    try:
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(65536):
                received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


def json_answer(response: bytes) -> tuple[int, dict]:
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


async def dribble(writer: asyncio.StreamWriter) -> None:
    """Headers that never end: a line every quarter second, which keeps an
    idle timeout from ever firing."""
    for number in range(1000):
        await asyncio.sleep(0.25)
        writer.write(f"X-Slow-{number}: a\r\n".encode())


async def slowloris(port: int, results: list, started: float) -> None:
    """One request whose headers never end."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode())
    dribbling = asyncio.create_task(dribble(writer))
    try:
        answer = await read_until_closed(reader, HEADER_TIMEOUT + SLACK + 3)
        results.append((answer, time.monotonic() - started))
    finally:
        dribbling.cancel()
        writer.close()


async def test_slowloris_headers_get_408_at_the_deadline_while_others_are_served(guarded_server):
    server = guarded_server
    results: list = []
    started = time.monotonic()
    attack = [asyncio.create_task(slowloris(server.port, results, started)) for _ in range(SLOWLORIS_SOCKETS)]
    await asyncio.sleep(HEADER_TIMEOUT / 2)
    # During the attack, another client gets its answer at once.
    status, body = await asyncio.to_thread(server.api, "GET", "/healthz", source_address=OTHER_CLIENT_ADDRESS)
    assert (status, body) == (200, {"status": "ok"})
    await asyncio.gather(*attack, return_exceptions=True)

    still_open = [answer for answer, _ in results if answer is None]
    assert not still_open, (
        f"{len(still_open)} of {SLOWLORIS_SOCKETS} connections still sending headers "
        f"{HEADER_TIMEOUT + SLACK + 3:.0f} s after they started: no deadline for headers"
    )
    latest = max(elapsed for _, elapsed in results)
    assert latest < HEADER_TIMEOUT + SLACK, f"the last was cut after {latest:.2f} s"
    for answer, _ in results:
        status, body = json_answer(answer)
        assert status == 408 and "detail" in body, answer


async def test_connection_that_sends_nothing_is_closed_at_the_deadline(guarded_server):
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", guarded_server.port)
    try:
        answer = await read_until_closed(reader, HEADER_TIMEOUT + SLACK + 3)
    finally:
        writer.close()
    assert answer is not None, "a connection that sent nothing is still open"
    assert answer == b"", answer
    assert time.monotonic() - started < HEADER_TIMEOUT + SLACK


async def test_kept_alive_connection_serves_requests_spaced_wider_than_the_deadline(
    guarded_server,
):
    """The deadline is for sending one request's headers, not for the wait
    between two requests (nginx keeps its upstream connections for reuse)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", guarded_server.port)
    try:
        for _ in range(3):
            writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{guarded_server.port}\r\n\r\n".encode())
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), MESSAGE_TIMEOUT)
            assert head.startswith(b"HTTP/1.1 200"), head
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            assert json.loads(await reader.readexactly(length)) == {"status": "ok"}
            await asyncio.sleep(HEADER_TIMEOUT * 1.5)
    finally:
        writer.close()


async def test_slowloris_on_a_kept_alive_connection_gets_408_at_the_deadline(guarded_server):
    """The deadline starts again with the first byte of each request: a
    first quick request buys no time for the next one's headers."""
    port = guarded_server.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), MESSAGE_TIMEOUT)
        assert head.startswith(b"HTTP/1.1 200"), head
        await reader.readexactly(len(b'{"status": "ok"}'))
        started = time.monotonic()
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode())
        dribbling = asyncio.create_task(dribble(writer))
        try:
            answer = await read_until_closed(reader, HEADER_TIMEOUT + SLACK + 3)
        finally:
            dribbling.cancel()
    finally:
        writer.close()
    assert answer is not None, "the second request's headers are still being sent"
    assert json_answer(answer)[0] == 408, answer
    assert time.monotonic() - started < HEADER_TIMEOUT + SLACK


async def test_websocket_stays_open_past_the_header_deadline(guarded_server):
    """A WebSocket handshake is an HTTP request on the same channel: the
    deadline must end with its headers."""
    account = guarded_server.register()
    async with guarded_server.connect(f"/ws/feed/{account.user_id}", account.token) as ws:
        await ping(ws)
        await asyncio.sleep(HEADER_TIMEOUT + SLACK)
        await ping(ws)


def send_announcing(port: int, length: int) -> tuple[bytes, float]:
    """Send the headers of an anonymous POST announcing a `length`-byte body,
    and no body; return what the server answers and how long it took."""
    with socket.create_connection(("127.0.0.1", port), timeout=MESSAGE_TIMEOUT) as sock:
        started = time.monotonic()
        sock.sendall(
            f"POST /api/tweets/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n".encode()
        )
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pass
        return received, time.monotonic() - started


async def test_oversized_content_length_gets_413_before_the_body_is_sent(guarded_server):
    answer, elapsed = await asyncio.to_thread(send_announcing, guarded_server.port, 300_000_000)
    assert answer, f"no answer in {MESSAGE_TIMEOUT} s: the server waits for the 300 MB body"
    status, body = json_answer(answer)
    assert status == 413, answer
    assert str(MAX_REQUEST_BYTES) in body["detail"], body
    assert elapsed < 1, f"answered after {elapsed:.2f} s"


async def test_large_upload_gets_413_not_a_reset_from_a_client_that_sends_it_all_first(
    guarded_server,
):
    """urllib, like most HTTP libraries, sends the whole body before it
    reads the answer: it must still read the 413, not a reset."""
    status, _, body = await asyncio.to_thread(
        http_request,
        guarded_server.http_url + "/api/tweets/",
        "POST",
        data=b"x" * (8 * MAX_REQUEST_BYTES),
        headers={"Content-Type": "application/json"},
    )
    assert status == 413, (status, body)
    assert "detail" in json.loads(body)


def send_chunked(port: int, chunks: int, chunk_size: int) -> tuple[bytes, int]:
    """POST a chunked body of up to `chunks` chunks, looking for an answer
    after each (so that no more than a chunk or two is in flight when the
    server answers); return the answer and how many body bytes were sent
    before it came."""
    with socket.create_connection(("127.0.0.1", port), timeout=MESSAGE_TIMEOUT) as sock:
        sock.sendall(
            f"POST /api/tweets/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"%x\r\n" % chunk_size + b" " * chunk_size + b"\r\n"
        sent = 0
        for _ in range(chunks):
            if select.select([sock], [], [], 0.002)[0]:
                break
            try:
                sock.sendall(chunk)
            except OSError:
                break
            sent += chunk_size
        else:
            sock.sendall(b"0\r\n\r\n")
        answer = b""
        try:
            while piece := sock.recv(65536):
                answer += piece
        except (TimeoutError, ConnectionResetError):
            pass
        return answer, sent


async def test_chunked_body_growing_past_the_limit_is_cut_off_with_413(guarded_server):
    chunk_size = 16384
    answer, sent = await asyncio.to_thread(
        send_chunked, guarded_server.port, 4 * MAX_REQUEST_BYTES // chunk_size, chunk_size
    )
    assert answer, "no answer to a chunked body four times the limit"
    status, body = json_answer(answer)
    assert status == 413, f"{sent} bytes sent, then: {answer[:200]!r}"
    assert "detail" in body
    # What was in flight when the server answered comes on top.
    assert sent < MAX_REQUEST_BYTES * 1.25, f"{sent} bytes sent before the 413"


def slow_upload(port: int, token: str, body: bytes, pieces: int, pause: float) -> bytes:
    """POST `body` in `pieces`, `pause` seconds apart; return the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=MESSAGE_TIMEOUT) as sock:
        sock.sendall(
            f"POST /api/tweets/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        )
        size = -(-len(body) // pieces)
        for start in range(0, len(body), size):
            time.sleep(pause)
            sock.sendall(body[start : start + size])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


async def test_slow_upload_under_the_limit_is_served(guarded_server):
    """A body that takes several header deadlines to arrive, but keeps
    arriving, is a slow client, not an attack."""
    account = guarded_server.register()
    body = json.dumps({"content": "sent slowly " + "z" * 200}).encode()
    answer = await asyncio.to_thread(
        slow_upload, guarded_server.port, account.token, body, 8, HEADER_TIMEOUT / 2
    )
    status, tweet = json_answer(answer)
    assert status == 201, answer
    assert tweet["content"].startswith("sent slowly")
