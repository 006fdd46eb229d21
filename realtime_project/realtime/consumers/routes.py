"""The WebSocket URL patterns of a catalog of streams: `/ws/` for all of
them, one single-stream endpoint each, and 4404 for any other path."""

from django.urls import re_path

from ..streams.catalog import Catalog
from .multiplex import MultiplexConsumer
from .stream import StreamConsumer, UnknownStreamConsumer


def websocket_routes(catalog: Catalog) -> list:
    # Ids are matched loosely ([^/]+) so a malformed one reaches the
    # consumer and gets a close code, rather than a failed handshake.
    return [
        re_path(r"^ws/?$", MultiplexConsumer.as_asgi(catalog=catalog)),
        *(
            re_path(rf"^ws/{stream.path}/?$", StreamConsumer.as_asgi(stream=stream))
            for stream in catalog.streams.values()
        ),
        re_path(r"", UnknownStreamConsumer.as_asgi()),
    ]
