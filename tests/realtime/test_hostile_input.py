"""Whatever a client sends, it gets a pong, an error frame or a stream reply, and
the connection stays open (property-based: hypothesis writes the messages)."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from realtime_project.asgi import application
from tests.communicator import DaphneCommunicator

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
client_messages = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["ping", "typing", "subscribe", "", "PING"])},
        optional={"is_typing": json_values, "tweet_id": json_values},
    ).map(json.dumps),
)


async def exchange(path: str, frames: list) -> list[dict]:
    communicator = DaphneCommunicator(application, path)
    connected, _ = await communicator.connect()
    assert connected
    replies = [await communicator.receive_json_from()]  # the snapshot
    for frame in frames:
        key = "bytes" if isinstance(frame, bytes) else "text"
        await communicator.send_input({"type": "websocket.receive", key: frame})
        while not await communicator.receive_nothing(timeout=0.01):
            output = await communicator.receive_output()
            assert output["type"] == "websocket.send", f"connection closed after {frame!r}"
            replies.append(json.loads(output["text"]))
    await communicator.send_to(text_data="ping")
    assert (await communicator.receive_json_from(timeout=2))["type"] == "pong"
    await communicator.disconnect()
    await get_channel_layer().flush()
    return replies


@pytest.fixture
def tweet(transactional_db, make_user):
    from feed import services

    return services.tweet_create(author=make_user(), content="target")


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frames=st.lists(client_messages, min_size=1, max_size=5))
def test_any_input_keeps_the_engagement_connection_open(tweet, frames):
    replies = async_to_sync(exchange)(f"/ws/engagement/{tweet.pk}", frames)
    for reply in replies:
        assert reply["type"] in {"engagement_update", "pong", "error", "typing"}
        # Stream messages name their stream; pongs and errors do not.
        if reply["type"] in {"engagement_update", "typing"}:
            assert set(reply) == {"type", "stream", "timestamp", "data"}
            assert reply["stream"] == f"engagement/{tweet.pk}"
        else:
            assert set(reply) == {"type", "timestamp", "data"}
        if reply["type"] == "error":
            assert reply["data"]["code"] != "internal_error"
