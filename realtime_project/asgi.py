"""ASGI entry point: HTTP goes to Django, WebSockets to the streams of the
four feature apps, on `/ws/` and on each stream's own endpoint.

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

from accounts.websocket import QUERY_CREDENTIALS  # noqa: E402
from engagement.streams import ENGAGEMENT  # noqa: E402
from feed.streams import FEED  # noqa: E402
from notifications.streams import NOTIFICATIONS  # noqa: E402
from realtime_project.realtime.consumers import websocket_routes  # noqa: E402
from realtime_project.realtime.middleware.auth import StreamAuthMiddleware  # noqa: E402
from realtime_project.realtime.middleware.client_address import ClientAddressMiddleware  # noqa: E402
from realtime_project.realtime.middleware.connection_guard import ConnectionGuard  # noqa: E402
from realtime_project.realtime.middleware.origin import OriginValidator  # noqa: E402
from realtime_project.realtime.middleware.serverloop import ServerLoopMiddleware  # noqa: E402
from realtime_project.realtime.streams import Catalog  # noqa: E402
from trending.scheduler import with_periodic_recompute  # noqa: E402
from trending.streams import TRENDING  # noqa: E402

# Every stream a client may subscribe to; each app describes its own.
streams = Catalog([NOTIFICATIONS, FEED, TRENDING, ENGAGEMENT])
websocket_urlpatterns = websocket_routes(streams)

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
