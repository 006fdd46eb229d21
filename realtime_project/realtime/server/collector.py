"""The garbage collector of a server process holding thousands of connections.

Each open WebSocket keeps dozens of objects the collector tracks (consumer,
autobahn protocol, Twisted transport, scope, coroutine frames), so what a
server tracks grows with its connections (docs/PERFORMANCE.md, items 13 and
14). CPython collects its oldest generation whenever a quarter as many
objects again have been promoted into it, and that collection walks all of
them: long pauses with nothing delivered, recurring while the connections
sit idle, from the pings, pongs and timers that live just long enough to be
promoted; and more of them, growing with the heap, while the connections
arrive (measured: docs/PERFORMANCE.md, "What is left", the
garbage-collection pauses).

A higher first threshold collects the youngest generation after 10,000 new
objects instead of 700: short-lived objects (a message, a ping's timer)
are then nearly always freed by reference counting before any collection
sees them, so few are promoted and full collections become rare. Closed
connections are reference cycles and still get collected, a little later:
a little more memory per idle connection. 20,000 collected even less often
but kept more garbage waiting (both measured: docs/PERFORMANCE.md, item 13).

The objects that exist once Django and the application are loaded live as
long as the process: `gc.freeze()` leaves them out of every later
collection.
"""

import gc

from django.conf import settings


def tune_garbage_collector() -> None:
    """Set this server process's collector thresholds (REALTIME_GC_THRESHOLDS),
    and freeze what start-up created. Call once, after the application is
    loaded."""
    gc.set_threshold(*settings.REALTIME_GC_THRESHOLDS)
    gc.collect()  # what start-up left as garbage is not frozen with the rest
    gc.freeze()
