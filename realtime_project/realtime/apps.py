from django.apps import AppConfig
from django.conf import settings


class RealtimeConfig(AppConfig):
    """The shared real-time toolkit: envelope, base consumer, broadcast, stats."""

    name = "realtime_project.realtime"
    label = "realtime"

    def ready(self):
        from .cluster import presence as cluster
        from .middleware import serverloop

        if settings.REDIS_URL:
            # Several processes share the layer: tell them what this one has open.
            serverloop.run_with_server(cluster.publish_forever)
