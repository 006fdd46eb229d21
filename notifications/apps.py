from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Per-user notifications (LIKE, REPLY, RETWEET, FOLLOW, MENTION) and their stream.

    It listens to the other apps' models: a like, a reply, a follow or a
    mention anywhere becomes a notification here, so those apps need not
    know notifications exist.
    """

    name = "notifications"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
