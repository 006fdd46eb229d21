"""Prometheus metrics of the real-time layer, served by each process at /metrics.

Each Daphne process exposes its own figures (Prometheus scrapes every
process and adds them up), so the default per-process registry is right.
"""

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from ..middleware.client_address import in_networks, networks_of

CONNECTIONS_OPEN = Gauge(
    "realtime_connections_open", "WebSocket connections open in this process", ["stream"]
)
CONNECTIONS_REFUSED = Counter(
    "realtime_connections_refused_total", "Handshakes closed by an access check", ["code"]
)
SUBSCRIPTIONS_REFUSED = Counter(
    "realtime_subscriptions_refused_total", "/ws/ subscribes answered with subscribe_error", ["code"]
)
HANDSHAKES_REFUSED = Counter(
    "realtime_handshakes_refused_total",
    "WebSocket handshakes refused before authentication (connection_guard.py)",
    ["reason"],
)
WEBSOCKETS_MAX = Gauge(
    "realtime_websockets_max",
    "Open WebSockets past which this process refuses new ones (descriptor limit - reserve)",
)
MESSAGES_DELIVERED = Counter(
    "realtime_messages_delivered_total", "Messages written to WebSocket clients", ["type"]
)
# One child counter per message type, looked up once: `labels()` validates
# and locks on every call, a visible share of the server's CPU per targeted
# message received through Redis (docs/PERFORMANCE.md, item 3).
_delivered_by_type: dict = {}


def count_delivered(kind: str, n: int = 1) -> None:
    """Count `n` messages of type `kind` written to WebSocket clients."""
    counter = _delivered_by_type.get(kind)
    if counter is None:
        counter = _delivered_by_type[kind] = MESSAGES_DELIVERED.labels(type=kind)
    counter.inc(n)


BROADCAST_LATENCY = Histogram(
    "realtime_broadcast_latency_seconds",
    "From a broadcast leaving its service to its delivery on a socket",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
# The server's own part of a broadcast, whatever its clients do with it: the
# time from the first write to the last (bench/fanout.py reads its mean).
FANOUT_WRITE_SECONDS = Histogram(
    "realtime_fanout_write_seconds",
    "Time to write one group message to every socket of this process ready for it (two or more)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
CHANNEL_LAYER_ERRORS = Counter(
    "realtime_channel_layer_errors_total", "Broadcasts the channel layer failed to take"
)
CLIENTS_DROPPED = Counter(
    "realtime_clients_dropped_total",
    "Connections closed for the server's sake (slow reader, flood, size)",
    ["reason"],
)
LAYER_RECONNECTS = Counter(
    "realtime_channel_layer_reconnects_total",
    "Times the Redis subscription came back after a lost connection (streams then catch up)",
)


def may_read_metrics(request) -> bool:
    """Whether the client (REMOTE_ADDR, realtime/middleware/client_address.py) is in
    REALTIME_METRICS_ALLOWED_NETWORKS, or sends REALTIME_METRICS_TOKEN as a
    bearer token.

    The figures are for operators: descriptor and connection counts tell an
    attacker how close a process is to its limits."""
    token = settings.REALTIME_METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    networks = networks_of(tuple(settings.REALTIME_METRICS_ALLOWED_NETWORKS))
    return in_networks(request.META.get("REMOTE_ADDR", ""), networks)


def metrics_view(request):
    """GET /metrics: this process's metrics in Prometheus' text format, for
    the networks and token of `may_read_metrics`; 403 for anyone else."""
    if not may_read_metrics(request):
        return JsonResponse({"detail": "Metrics are not public."}, status=403)
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
