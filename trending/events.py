"""The trending stream's messages: the `trending` list and its broadcast."""

from realtime_project.realtime import protocol
from realtime_project.realtime.events.broadcast import broadcast_on_commit


def trending_data(topics: list[dict]) -> dict:
    """The `data` of a `trending` message for `topics`."""
    return {"topics": topics, "count": len(topics)}


def broadcast_trending_update(*, group: str, topics: list[dict]) -> None:
    """Send the `trending` list to `group` once the transaction commits."""
    broadcast_on_commit(groups=[group], kind=protocol.TRENDING, data=trending_data(topics))
