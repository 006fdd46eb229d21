from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who a client is: registration, sign-in, API tokens, single-use
    WebSocket tickets, display names, and look-alike usernames."""

    name = "accounts"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
