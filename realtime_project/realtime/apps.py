from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """The shared real-time toolkit: envelope, base consumer, broadcast, stats."""

    name = "realtime_project.realtime"
    label = "realtime"
