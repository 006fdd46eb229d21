"""How a stream refuses a client: the close codes of PROTOCOL.md, and the
exception `authorize` raises to close with one."""

from enum import IntEnum


class CloseCode(IntEnum):
    NOT_AUTHENTICATED = 4401
    FORBIDDEN = 4403
    NOT_FOUND = 4404
    TOO_MANY = 4429
    TOO_BIG = 1009


class AccessDenied(Exception):
    """Raised by `authorize` to close the connection with `code`."""

    def __init__(self, code: CloseCode, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason
