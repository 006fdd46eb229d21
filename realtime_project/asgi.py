"""ASGI entry point: HTTP goes to Django, WebSockets to the four stream consumers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "realtime_project.settings")
# Set up Django (apps, models) before anything imports a consumer or model.
django_http = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from engagement.consumers import EngagementConsumer  # noqa: E402
from feed.consumers import FeedConsumer  # noqa: E402
from notifications.consumers import NotificationConsumer  # noqa: E402
from realtime_project.realtime.client_address import ClientAddressMiddleware  # noqa: E402
from realtime_project.realtime.collector import tune_garbage_collector  # noqa: E402
from realtime_project.realtime.auth import StreamAuthMiddleware  # noqa: E402
from realtime_project.realtime.connection_guard import ConnectionGuard  # noqa: E402
from realtime_project.realtime.origin import OriginValidator  # noqa: E402
from realtime_project.realtime.autobahn_debug_log import install_lazy_debug_formatting  # noqa: E402
from realtime_project.realtime.daphne_access_log import install_query_free_access_log  # noqa: E402
from realtime_project.realtime.daphne_close_codes import install_service_close_codes  # noqa: E402
from realtime_project.realtime.daphne_memory import install_lean_connections  # noqa: E402
from realtime_project.realtime.daphne_direct import install_direct_writes  # noqa: E402
from realtime_project.realtime.daphne_timers import install_spread_timeout_checks  # noqa: E402
from realtime_project.realtime.daphne_limits import install_daphne_limits  # noqa: E402
from realtime_project.realtime.consumers import UnknownStreamConsumer  # noqa: E402
from realtime_project.realtime.layer_watch import install_layer_watch  # noqa: E402
from realtime_project.realtime.serverloop import ServerLoopMiddleware  # noqa: E402
from realtime_project.realtime.stream_database import install_persistent_stream_connections  # noqa: E402
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

install_query_free_access_log()
install_service_close_codes()
install_lazy_debug_formatting()
install_lean_connections()
install_direct_writes()
install_spread_timeout_checks()
install_persistent_stream_connections()
install_layer_watch()
install_daphne_limits(
    max_message_bytes=settings.REALTIME_MAX_MESSAGE_BYTES,
    max_queued_bytes=settings.REALTIME_MAX_QUEUED_BYTES,
)

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
                            StreamAuthMiddleware(URLRouter(websocket_urlpatterns))
                        ),
                    }
                )
            )
        )
    )
)

# Last: everything start-up made is loaded and can be frozen.
tune_garbage_collector()
