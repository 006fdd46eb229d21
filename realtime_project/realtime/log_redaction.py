"""Keep credentials out of log lines.

A WebSocket URL may carry `?token=` or `?ticket=`, and libraries log URLs
and request lines at their debug levels (Daphne's `-v 2`, autobahn). This
filter sits on every handler of the project's logging configuration, so no
record reaches a file or a terminal with a credential in it, whichever
library wrote it and at whatever level.
"""

import logging
import re

# The value of a credential parameter, in a query string or an
# `Authorization: Token ...` header, however the URL is quoted.
_CREDENTIAL = re.compile(
    r"(?P<name>(?:\b|%3[Ff]|%26)(?:token|ticket|sessionid|csrftoken)(?:=|%3[Dd]))[^&\s\"'<>;,]+"
    r"|(?P<header>\bToken\s+)[0-9a-fA-F]{20,}",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Return `text` with the value of every credential replaced by `[redacted]`."""
    return _CREDENTIAL.sub(lambda m: (m.group("name") or m.group("header")) + "[redacted]", text)


class RedactCredentials(logging.Filter):
    """Rewrite a record's message so that no credential in it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
