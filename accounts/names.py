"""How a user is named to others."""


def display_name(user) -> str:
    """A user's full name, or the username when it is empty (PROTOCOL.md)."""
    return user.get_full_name() or user.username
