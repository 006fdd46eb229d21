"""Every stream a server offers, found by name: built by the project
(asgi.py) from its apps' descriptions, since the toolkit knows no app."""

from collections.abc import Iterable

from .description import Stream
from .names import canonical_id


class Catalog:
    def __init__(self, streams: Iterable[Stream]):
        self.streams: dict[str, Stream] = {}
        for stream in streams:
            if not stream.kind or "/" in stream.kind or "." in stream.kind:
                raise ValueError(f"a stream's kind is one word: {stream.kind!r}")
            if stream.kind in self.streams:
                raise ValueError(f"two streams of kind {stream.kind!r}")
            self.streams[stream.kind] = stream

    def find(self, name) -> tuple[Stream, str | None] | None:
        """The stream named `name` and the id its name holds, or None when
        `name` names no stream (PROTOCOL.md: ids as the server writes them)."""
        if not isinstance(name, str) or len(name) > 64:
            return None
        kind, slash, raw_id = name.partition("/")
        stream = self.streams.get(kind)
        if stream is None:
            return None
        if stream.id_name is None:
            return (stream, None) if not slash else None
        raw_id = canonical_id(raw_id)
        return (stream, raw_id) if raw_id is not None else None
