"""Channel-layer group names of the feed stream (the only place they are spelled)."""


def user_feed(user_id) -> str:
    """The group of one user's open feed connections."""
    return f"feed.user.{int(user_id)}"
