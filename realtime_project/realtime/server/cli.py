"""The server's one entry point: `python -m realtime_project.realtime.server`
with Daphne's command line (`daphne --help` lists it).

Daphne's CommandLineInterface with this package's Server. Beyond Daphne:
- `--websocket-max-message-size` and `--websocket-max-frame-size` mean
  what they mean to Daphne, in both directions (a feed replay of 500
  tweets needs hundreds of KB of them); what a client sends is held as
  well to REALTIME_MAX_MESSAGE_BYTES, when that is smaller (websocket.py);
- the version fence (versions.py) is checked before anything starts;
- what is process-wide (process.py) is set once the application is loaded.
"""

import logging
import os
import sys

from daphne.cli import CommandLineInterface

logger = logging.getLogger(__name__)


class RealtimeCommandLineInterface(CommandLineInterface):
    description = "The real-time server (Daphne, with the toolkit's server classes)"

    def __init__(self):
        from .server import RealtimeServer

        super().__init__()
        self.server_class = RealtimeServer

    def run(self, args):
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "realtime_project.settings")
        from django.conf import settings

        from .versions import fast_path_allowed
        from .websocket import RealtimeWebSocketProtocol

        self.fast_path = fast_path_allowed()
        self.server_class.fast_path = self.fast_path
        RealtimeWebSocketProtocol.direct_writes = self.fast_path
        RealtimeWebSocketProtocol.max_client_message_bytes = settings.REALTIME_MAX_MESSAGE_BYTES
        RealtimeWebSocketProtocol.max_queued_bytes = settings.REALTIME_MAX_QUEUED_BYTES
        configure_http_limits(settings)
        return super().run(args)

    def load_asgi_app(self, asgi_app_path: str):
        from .process import prepare_server_process

        application = super().load_asgi_app(asgi_app_path)
        prepare_server_process(fast_path=self.fast_path)
        return application


def configure_http_limits(settings) -> None:
    from .http import BoundedHTTPChannel

    BoundedHTTPChannel.header_timeout = settings.REALTIME_HEADER_TIMEOUT_SECONDS
    BoundedHTTPChannel.max_body_bytes = settings.REALTIME_MAX_REQUEST_BYTES


def main(argv: list[str] | None = None) -> None:
    RealtimeCommandLineInterface().run(sys.argv[1:] if argv is None else argv)
