"""The server's one entry point: `python -m realtime_project.realtime.server`
with Daphne's command line (`daphne --help` lists it).

Daphne's CommandLineInterface with this package's Server. Beyond Daphne:
- `--websocket-max-message-size` and `--websocket-max-frame-size` mean
  what they mean to Daphne, in both directions (a feed replay of 500
  tweets needs hundreds of KB of them); what a client sends is held as
  well to REALTIME_MAX_MESSAGE_BYTES, when that is smaller (websocket.py);
- the server (server.py) checks the version fence, reads its limits from
  the settings, and sets what is process-wide (process.py) before it runs.

The settings are the application's: Daphne imports it before it builds the
server, and a Django project's asgi.py names its DJANGO_SETTINGS_MODULE.
"""

import sys

from daphne.cli import CommandLineInterface

from .server import RealtimeServer


class RealtimeCommandLineInterface(CommandLineInterface):
    description = "The real-time server (Daphne, with the toolkit's server classes)"
    # On the class, as Daphne's own CLI has it, so that a subclass may name
    # another server (Daphne's CLI tests do).
    server_class = RealtimeServer


def main(argv: list[str] | None = None) -> None:
    RealtimeCommandLineInterface().run(sys.argv[1:] if argv is None else argv)
