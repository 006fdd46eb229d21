"""How a stream refuses a client: the close codes of PROTOCOL.md, the
exception `authorize` raises to refuse with one, and the one a client
message's handler raises to answer with an error frame."""

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


class ClientError(Exception):
    """Raised by a client message's handler: answered with an `error` frame
    (`code`, `message`, and `stream` when the message named one); the
    connection stays open."""

    def __init__(self, code: str, message: str, stream: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.stream = stream
