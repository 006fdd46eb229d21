"""Streams: what a client subscribes to, described once by the app that owns
it (`Stream`), named and found by that name (`names`, `Catalog`). The
single-stream endpoints and the `/ws/` connection are both built from
these descriptions (consumers/)."""

from .catalog import Catalog
from .description import Stream, Subscription

__all__ = ["Catalog", "Stream", "Subscription"]
