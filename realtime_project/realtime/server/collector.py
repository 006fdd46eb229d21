"""The garbage collector of a server process holding thousands of connections.

Each open WebSocket keeps about 80 objects the collector tracks (consumer,
autobahn protocol, Twisted transport, scope, coroutine frames): 0.8
million at 10,000 connections (1.1 million before item 14 of
docs/PERFORMANCE.md). CPython collects its oldest generation whenever a
quarter as many objects again have been promoted into it, and that
collection walks all of them: measured at 10,000 idle connections (docs/PERFORMANCE.md),
0.6-1 s with nothing delivered, about every 40 s, from the pings, pongs
and timers that live just long enough to be promoted; and 15 such pauses,
growing with the heap, while the connections arrived.

A higher first threshold collects the youngest generation after 10,000 new
objects instead of 700: short-lived objects (a message, a ping's timer)
are then nearly always freed by reference counting before any collection
sees them, so few are promoted and full collections become rare (7 instead
of 73 over the same benchmark phases at 10,000 connections). Closed
connections are reference cycles and still get collected, a little later:
about 1 KB more per idle connection. 20,000 collected even less often but
kept twice that much garbage waiting.

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
