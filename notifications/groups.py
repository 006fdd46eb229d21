"""Channel-layer group names of the notifications stream (the only place they are spelled)."""

# This stream's name in /ws/stats and presence.
STREAM = "notifications"


def user_notifications(user_id) -> str:
    """The group of one user's open notification connections."""
    return f"notifications.user.{int(user_id)}"
