"""Names of the engagement stream and its channel-layer group (the only place they are spelled)."""

from realtime_project.realtime.streams.names import group_of, stream_name

# This stream's kind: the first part of its names, and its name in /ws/stats and presence.
STREAM = "engagement"


def tweet_watchers(tweet_id) -> str:
    """The group of every stream of one tweet's counters and typists."""
    return group_of(stream_name(STREAM, tweet_id))
