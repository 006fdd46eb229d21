"""autobahn's debug lines, formatted only when they are written.

On every connection autobahn (Daphne's WebSocket protocol) pretty-prints its
29 protocol options for a debug log line (`WebSocketProtocol._connectionMade`),
and its transport details on every handshake, whether debug logging is on or
not: the arguments are made before the logger, a no-op below its level, is
called: a visible share of a handshake's CPU (docs/PERFORMANCE.md, item
18). Here autobahn's `pformat` returns an object that pretty-prints when it
is formatted into a line, so a line nobody writes costs nothing, and a line
written reads as before.
"""

import pprint


class _PrettyWhenFormatted:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __str__(self) -> str:
        return pprint.pformat(self.value)

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _lazy_pformat(value) -> _PrettyWhenFormatted:
    return _PrettyWhenFormatted(value)


def _timings_text(timings) -> str:
    # autobahn's Timings.__str__ returns pformat(...) and must still return a str.
    return pprint.pformat(timings._timings)


def install_lazy_debug_formatting() -> None:
    from autobahn.websocket import protocol

    protocol.pformat = _lazy_pformat
    protocol.Timings.__str__ = _timings_text
