"""Stream names and the channel-layer groups they live in.

A stream's name is what a client subscribes to on `/ws/` and the path of its
single-stream endpoint without `/ws/` (PROTOCOL.md, "One connection per
tab"): `notifications/7`, `trending`. Its group is the same name with `.`
for `/` (group names allow no `/`), so each gives the other: a message sent
to a group carries the one stream name that group has, and no client input
can have it delivered under another.
"""

# The `stream` of a message sent to several groups at once (group_send_many,
# a tweet to every follower's feed): `addressed` fills in each group's own.
# A control character: no stream name holds one, and in JSON it is escaped,
# so in encoded text it can only be the one the encoder put there.
ANY_STREAM = "\x00"
_SLOT = '"\\u0000"'


def stream_name(kind: str, id=None) -> str:
    """The name of the `kind` stream of `id` (`notifications/7`), or of the
    stream named by its kind alone (`trending`)."""
    return kind if id is None else f"{kind}/{int(id)}"


def group_of(stream: str) -> str:
    """The channel-layer group of the stream named `stream`."""
    return stream.replace("/", ".")


def stream_of(group: str) -> str:
    """The name of the stream whose group is `group`."""
    return group.replace(".", "/")


def canonical_id(raw) -> str | None:
    """`raw` if it is an id as the server writes it (decimal, no sign, no
    leading zero, 64-bit), else None: any other spelling names no stream."""
    if not isinstance(raw, str) or not raw.isdecimal() or not raw.isascii():
        return None
    if (raw != "0" and raw.startswith("0")) or len(raw) > 19 or int(raw) >= 2**63:
        return None
    return raw


def parse_row_id(raw) -> int | None:
    """A database id from client input, or None if it is not one."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if 0 <= value < 2**63 else None


def addressed(message: dict, group: str) -> dict:
    """`message` as group `group` gets it: a message for several groups
    (`stream` ANY_STREAM) gets that group's stream name, in `stream` and in
    its text; any other is returned as it is."""
    if message.get("stream") != ANY_STREAM:
        return message
    stream = stream_of(group)
    # The slot is the envelope's second field, before any data (protocol.encode).
    return {**message, "stream": stream, "text": message["text"].replace(_SLOT, f'"{stream}"', 1)}
