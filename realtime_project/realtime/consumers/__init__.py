"""The toolkit's consumers: a stream's single-stream endpoint (stream.py)
and the `/ws/` connection of many subscriptions (multiplex.py), both on
Connection (connection.py) and served from the streams' descriptions."""

from ..streams.access import AccessDenied, ClientError, CloseCode
from .connection import Connection
from .multiplex import MultiplexConsumer
from .routes import websocket_routes
from .stream import StreamConsumer, UnknownStreamConsumer

__all__ = [
    "AccessDenied",
    "ClientError",
    "CloseCode",
    "Connection",
    "MultiplexConsumer",
    "StreamConsumer",
    "UnknownStreamConsumer",
    "websocket_routes",
]
