from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project's own app: the REST API's shared parts, the dashboard and
    its management commands."""

    name = "realtime_project"
