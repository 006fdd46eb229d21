"""The naive Channels pattern, the comparison of bench/fanout.py.

    daphne bench.naive_asgi:application       (REDIS_URL picks the layer)

What a hand-wired Channels project does: a stock `AsyncWebsocketConsumer`
per connection that joins a group, a stock `group_send` per event, and
Channels' own layers (`InMemoryChannelLayer`, or channels-redis'
`RedisPubSubChannelLayer` with its defaults). `/ws/watch` joins the group
`watchers`; `/ws/user/<n>` joins `user_<n>`; any text from a client is
answered with a pong. `GET /broadcast` sends one message to `watchers` (the
trigger of a broadcast round).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "realtime_project.settings")
django_http = get_asgi_application()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from bench.rawloop import broadcast_payload  # noqa: E402

if settings.REDIS_URL:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL]},
        }
    }
else:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

PONG = '{"type": "pong", "timestamp": "2026-01-01T00:00:00Z", "data": {}}'


class Watcher(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope["url_route"]["kwargs"].get("user")
        self.group = f"user_{user}" if user else "watchers"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=PONG)

    async def bench_message(self, event):
        await self.send(text_data=event["text"])


async def http(scope, receive, send):
    if scope["path"] == "/broadcast":
        await get_channel_layer().group_send(
            "watchers", {"type": "bench.message", "text": broadcast_payload().decode()}
        )
        status = 200
    elif scope["path"] == "/ws/stats":
        status = 200  # the harness's "is it up" probe
    else:
        status = 404
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})


application = ProtocolTypeRouter(
    {
        "http": http,
        "websocket": URLRouter(
            [
                re_path(r"^ws/watch$", Watcher.as_asgi()),
                re_path(r"^ws/user/(?P<user>\d+)$", Watcher.as_asgi()),
            ]
        ),
    }
)
