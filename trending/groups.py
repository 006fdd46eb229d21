"""Names of the trending stream and its channel-layer group (the only place they are spelled)."""

from realtime_project.realtime.streams.names import group_of, stream_name

# This stream's kind and name, and its name in /ws/stats and presence.
STREAM = "trending"


def everyone() -> str:
    """The group of every trending stream."""
    return group_of(stream_name(STREAM))
