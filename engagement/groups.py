"""Channel-layer group names of the engagement stream (the only place they are spelled)."""

# This stream's name in /ws/stats and presence.
STREAM = "engagement"


def tweet_watchers(tweet_id) -> str:
    """The group of every connection watching one tweet's counters and typists."""
    return f"engagement.tweet.{int(tweet_id)}"
