"""Channel-layer group names of the feed stream (the only place they are spelled)."""

# This stream's name in /ws/stats and presence.
STREAM = "feed"


def user_feed(user_id) -> str:
    """The group of one user's open feed connections."""
    return f"feed.user.{int(user_id)}"
