"""What a resuming client missed, as a stream's selectors build it and the
consumer sends it (PROTOCOL.md, "Resume")."""

from dataclasses import dataclass, field


@dataclass
class Replay:
    """What a resuming client missed: frames to send, oldest first."""

    frames: list[tuple[str, dict]] = field(default_factory=list)
    # Ids of the rows sent, so live messages carrying them are not sent twice.
    ids: frozenset[str] = frozenset()
    # More were missed than the replay limit: the client should reload.
    truncated: bool = False
