"""Keep credentials out of log lines.

A WebSocket URL may carry `?token=` or `?ticket=`, and libraries log URLs,
request lines and headers at their debug levels: with `daphne -v 2` and up,
Twisted's own request log (request line, Referer), autobahn's handshake
failures and anything written to stdout or stderr all become records of the
stdlib logger `daphne.server`. This filter sits on every handler of the
project's logging configuration, so no record reaches a file or a terminal
with a credential in it, whichever library wrote it and at whatever level:
its message, and the traceback and stack it carries. Daphne's access log,
which is not written through `logging`, runs its paths through `redact`
too (realtime/server/access_log.py).
"""

import logging
import re

# Parameters whose value is a credential: in a query string, a cookie, a form.
_NAMES = r"(?:token|ticket|password|sessionid|csrftoken|csrfmiddlewaretoken)"
_CREDENTIAL = re.compile(
    # name=value, also inside a longer name (access_token) and with the `?`,
    # `&`, `;` or `=` percent-encoded (a URL quoted once more).
    r"(?P<param>(?:(?<![a-z0-9])|(?<=%3f)|(?<=%26)|(?<=%3b))" + _NAMES + r"(?:=|%3d))"
    r"[^&\s\"'<>;,\\]+"
    # 'name': 'value' in a dict or JSON, ['value'] in parsed query parameters.
    r"|(?P<key>[\"']" + _NAMES + r"[\"']\s*:\s*\[?\s*b?[\"'])[^\"']+"
    # An Authorization header, as a line, in a dict or in ASGI's header pairs.
    r"|(?P<authorization>\bauthorization\b[\"']?\s*[:=,]\s*b?[\"']?(?:(?:token|bearer|basic)\s+)?)"
    r"[^\s\"',;]+"
    # A scheme and a long value anywhere else.
    r"|(?P<scheme>\b(?:token|bearer|basic)\s+)[a-z0-9._~+/=-]{16,}",
    re.IGNORECASE,
)


def _keep_name(match: re.Match) -> str:
    return match.group(match.lastgroup) + "[redacted]"


def redact(text: str) -> str:
    """Return `text` with the value of every credential replaced by `[redacted]`."""
    return _CREDENTIAL.sub(_keep_name, text)


_tracebacks = logging.Formatter()


class RedactCredentials(logging.Filter):
    """Rewrite a record's message, traceback and stack so that no credential
    in them is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            # What the handler's formatter would write (it uses exc_text when set).
            record.exc_text = _tracebacks.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
