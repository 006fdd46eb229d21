"""ASGI entry point: HTTP goes to Django, WebSockets to the four stream consumers.

Importing it changes no library and nothing process-wide: the server's own
classes and process settings come with its entry point,
`python -m realtime_project.realtime.server realtime_project.asgi:application`
(realtime/server/)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "realtime_project.settings")
# Set up Django (apps, models) before anything imports a consumer or model.
django_http = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from accounts.websocket import QUERY_CREDENTIALS  # noqa: E402
from engagement.consumers import EngagementConsumer  # noqa: E402
from feed.consumers import FeedConsumer  # noqa: E402
from notifications.consumers import NotificationConsumer  # noqa: E402
from realtime_project.realtime.consumers import UnknownStreamConsumer  # noqa: E402
from realtime_project.realtime.middleware.auth import StreamAuthMiddleware  # noqa: E402
from realtime_project.realtime.middleware.client_address import ClientAddressMiddleware  # noqa: E402
from realtime_project.realtime.middleware.connection_guard import ConnectionGuard  # noqa: E402
from realtime_project.realtime.middleware.origin import OriginValidator  # noqa: E402
from realtime_project.realtime.middleware.serverloop import ServerLoopMiddleware  # noqa: E402
from trending.consumers import TrendingConsumer  # noqa: E402
from trending.scheduler import with_periodic_recompute  # noqa: E402

# Ids are matched loosely ([^/]+) so a malformed one reaches the consumer and
# gets a close code, rather than a failed handshake.
websocket_urlpatterns = [
    re_path(r"^ws/notifications/(?P<user_id>[^/]+)/?$", NotificationConsumer.as_asgi()),
    re_path(r"^ws/feed/(?P<user_id>[^/]+)/?$", FeedConsumer.as_asgi()),
    re_path(r"^ws/trending/?$", TrendingConsumer.as_asgi()),
    re_path(r"^ws/engagement/(?P<tweet_id>[^/]+)/?$", EngagementConsumer.as_asgi()),
    re_path(r"", UnknownStreamConsumer.as_asgi()),
]

# The periodic trending recompute starts and stops with the server process
# (trending/scheduler.py); importing this module starts nothing.
application = with_periodic_recompute(
    ServerLoopMiddleware(
        ClientAddressMiddleware(
            ConnectionGuard(
                ProtocolTypeRouter(
                    {
                        "http": django_http,
                        "websocket": OriginValidator(
                            StreamAuthMiddleware(
                                URLRouter(websocket_urlpatterns), query_credentials=QUERY_CREDENTIALS
                            )
                        ),
                    }
                )
            )
        )
    )
)
