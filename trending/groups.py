"""Channel-layer group names of the trending stream (the only place they are spelled)."""

# This stream's name in /ws/stats and presence.
STREAM = "trending"


def everyone() -> str:
    """The group of every open /ws/trending connection."""
    return "trending.all"
