from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project's own app: accounts and the REST API's shared parts."""

    name = "realtime_project"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
