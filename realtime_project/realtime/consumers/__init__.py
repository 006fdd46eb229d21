"""The toolkit's consumers: every stream's consumer subclasses StreamConsumer."""

from .access import AccessDenied, CloseCode
from .stream import StreamConsumer, UnknownStreamConsumer

__all__ = ["AccessDenied", "CloseCode", "StreamConsumer", "UnknownStreamConsumer"]
