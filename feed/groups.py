"""Names of the feed stream and its channel-layer group (the only place they are spelled)."""

from realtime_project.realtime.streams.names import group_of, stream_name

# This stream's kind: the first part of its names, and its name in /ws/stats and presence.
STREAM = "feed"


def user_feed(user_id) -> str:
    """The group of one user's feed streams."""
    return group_of(stream_name(STREAM, user_id))
