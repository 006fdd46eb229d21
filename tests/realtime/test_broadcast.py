import json
import logging

import pytest

from realtime_project.realtime import protocol
from realtime_project.realtime.events import broadcast


def test_envelope_has_type_utc_timestamp_and_data():
    frame = json.loads(protocol.encode("notification", {"notification_id": "1"}))
    assert frame["type"] == "notification"
    assert frame["timestamp"].endswith("Z")
    assert frame["data"] == {"notification_id": "1"}


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        protocol.encode("gossip", {})


def test_failed_send_is_logged_and_never_raised(monkeypatch, caplog):
    class BrokenLayer:
        async def group_send(self, group, message):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(broadcast, "get_channel_layer", lambda: BrokenLayer())
    with caplog.at_level(logging.ERROR, logger="realtime_project.realtime.events.broadcast"):
        broadcast.send_to_groups(["trending"], broadcast.stream_message("trending", {}, stream="trending"))
    assert "broadcast to 1 group(s) failed" in caplog.text


@pytest.mark.django_db
def test_a_message_to_several_groups_names_each_groups_stream(broadcasts):
    with broadcasts.committing():
        broadcast.broadcast_on_commit(
            groups=["feed.1", "feed.2"], kind="feed_update", data={"tweets": [{"tweet_id": "9"}]}
        )
    [(_, first), (_, second)] = broadcasts.sent
    assert (first["stream"], second["stream"]) == ("feed/1", "feed/2")
    assert first["data"] == second["data"] == {"tweets": [{"tweet_id": "9"}]}
    assert first["timestamp"] == second["timestamp"]
