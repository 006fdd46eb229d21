"""No credential survives the project's log filter, in any of the shapes
the libraries under Daphne write them (realtime/ops/log_redaction.py). The live
output of a verbose server is searched in tests/e2e/test_verbose_logs.py."""

import io
import logging

import pytest
from twisted.logger import Logger, LogPublisher, STDLibLogObserver

from realtime_project.realtime.ops.log_redaction import RedactCredentials, redact

SECRET = "5f4dcc3b5aa765d61d8327deb882cf99aa00bb11"
URLSAFE = "qV3-xk_9Zr2mPa7LwQe4sTn8yUb1cHd6"


@pytest.mark.parametrize(
    "line",
    [
        # Twisted's request log (`daphne -v 2`): request line and Referer.
        f'"GET /ws/feed/1?token={SECRET} HTTP/1.1" 404 179 "https://x.example/?ticket={URLSAFE}"',
        f"GET /ws/feed/1?since=4&ticket={URLSAFE}&x=1",
        f"GET /ws/feed/1?TOKEN={SECRET}",
        f"GET /api/?access_token={SECRET}",
        # The `?` (or `&`) percent-encoded into the path.
        f"GET /ws/feed/1%3Ftoken%3D{SECRET}",
        f"GET /ws/feed/1%3fsince%3d4%26ticket%3d{URLSAFE}",
        # Cookies, as a header line and as ASGI header pairs.
        f"Cookie: csrftoken={URLSAFE}; sessionid={SECRET}",
        f"[(b'cookie', b'sessionid={SECRET}')]",
        # Authorization, whatever the scheme and value look like.
        f"Authorization: Token {SECRET}",
        f"authorization: Token not-hex-{URLSAFE}",
        f"{{'authorization': 'Bearer {URLSAFE}'}}",
        f"[(b'authorization', b'Token {SECRET}')]",
        f"header Token {SECRET} in the middle",
        f"Basic {URLSAFE}",
        # Parsed query parameters and JSON bodies (asyncio's debug mode
        # prints callbacks with their arguments).
        f"{{'token': ['{SECRET}'], 'since': ['4']}}",
        f'b\'{{"user_id": "3", "token": "{SECRET}"}}\'',
        f'{{"ticket": "{URLSAFE}", "expires_in": 30}}',
        f"password={URLSAFE}&username=alice",
        f'{{"username": "alice", "password": "{URLSAFE}"}}',
        # A fragment autobahn complains about.
        f'fragment identifier "ticket={URLSAFE}"',
    ],
)
def test_credential_is_redacted(line):
    cleaned = redact(line)
    assert SECRET not in cleaned and URLSAFE not in cleaned, cleaned
    assert "[redacted]" in cleaned


@pytest.mark.parametrize(
    "line",
    [
        "GET /ws/feed/1?since=42",
        "refused feed anonymous: authentication required",
        "Token authentication failed",
        "WebSocket ['127.0.0.1', 44302] open and established",
        '"GET /api/tweets/?cursor=cD0yMDI2 HTTP/1.1" 200 512',
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "tokens issued: 3",
    ],
)
def test_line_without_credential_is_left_alone(line):
    assert redact(line) == line


def handler_output(emit) -> str:
    """What a handler with the filter writes for the records `emit(logger)` logs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactCredentials())
    logger = logging.getLogger("tests.log_redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_arguments_of_a_record_are_redacted():
    output = handler_output(lambda log: log.info("request for %s", f"/ws/feed/1?token={SECRET}"))
    assert SECRET not in output
    assert "request for /ws/feed/1?token=[redacted]" in output


def test_traceback_of_a_record_is_redacted():
    def emit(log):
        try:
            raise ValueError(f"could not parse /ws/feed/1?ticket={URLSAFE}")
        except ValueError:
            log.exception("Exception inside application")

    output = handler_output(emit)
    assert "ValueError: could not parse /ws/feed/1?ticket=[redacted]" in output
    assert URLSAFE not in output


def test_stack_of_a_record_is_redacted():
    def emit(log):
        # The stack shows this source line, and with it the secret.
        log.warning("here", stack_info=True)  # ?token=5f4dcc3b5aa765d61d8327deb882cf99aa00bb11

    output = handler_output(emit)
    assert "Stack (most recent call last)" in output
    assert SECRET not in output


def test_twisted_log_events_are_redacted_on_their_way_through_logging():
    """Under `daphne -v 2` Twisted's log, autobahn's included, reaches the
    stdlib logger through STDLibLogObserver, formatted only on writing."""

    def emit(log):
        publisher = LogPublisher(STDLibLogObserver(name=log.name))
        twisted_log = Logger(observer=publisher)
        twisted_log.info(
            "failing WebSocket opening handshake ('{reason}')",
            reason=f'Bad HTTP request resource - could not parse "/ws/feed/1?token={SECRET}"',
        )
        try:
            raise RuntimeError(f"Authorization: Token {SECRET}")
        except RuntimeError:
            twisted_log.failure("Unhandled Error")

    output = handler_output(emit)
    assert "failing WebSocket opening handshake" in output and "Unhandled Error" in output
    assert SECRET not in output
