"""Daphne's keepalive pings against a live server, with its checks spread
over their period (realtime/server/server.py, timeout_checker): every open WebSocket is
still pinged."""

import base64
import os
import select
import socket
import time

import pytest

from .conftest import migrate, server_env, start_daphne, stop_process

CONNECTIONS = 60
PING_INTERVAL = 1  # seconds, Daphne's --ping-interval


@pytest.fixture(scope="module")
def pinging_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("pinging_server")
    env = server_env(workdir)
    log_path = workdir / "daphne.log"
    migrate(env, log_path)
    server = start_daphne(
        "pinging_server",
        env,
        log_path,
        extra_args=("--ping-interval", str(PING_INTERVAL), "--ping-timeout", "30"),
    )
    try:
        yield server
    finally:
        stop_process(server.process)


def open_trending_socket(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/trending HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101"), answer[:80]
    sock.setblocking(False)
    return sock


def test_every_open_websocket_is_pinged(pinging_server):
    sockets = [open_trending_socket(pinging_server.port) for _ in range(CONNECTIONS)]
    try:
        pinged: set[int] = set()
        received = {sock.fileno(): b"" for sock in sockets}
        deadline = time.monotonic() + 8 * PING_INTERVAL
        while len(pinged) < CONNECTIONS and time.monotonic() < deadline:
            readable, _, _ = select.select(sockets, [], [], 0.2)
            for sock in readable:
                received[sock.fileno()] += sock.recv(65536)
                if has_ping_frame(received[sock.fileno()]):
                    pinged.add(sock.fileno())
        assert len(pinged) == CONNECTIONS, f"{CONNECTIONS - len(pinged)} sockets were never pinged"
    finally:
        for sock in sockets:
            sock.close()


def has_ping_frame(data: bytes) -> bool:
    """Whether the server's frames in `data` include a ping (opcode 9)."""
    offset = 0
    while offset + 2 <= len(data):
        opcode, length = data[offset] & 0x0F, data[offset + 1] & 0x7F
        header = 2
        if length == 126:
            length, header = int.from_bytes(data[offset + 2 : offset + 4], "big"), 4
        elif length == 127:
            length, header = int.from_bytes(data[offset + 2 : offset + 10], "big"), 10
        if opcode == 0x9:
            return True
        offset += header + length
    return False
