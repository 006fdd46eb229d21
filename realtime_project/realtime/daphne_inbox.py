"""Daphne's per-connection input queue, made small (see inbox.py).

Daphne creates an `asyncio.Queue` for each connection in
`Server.create_application`, and nothing outside that method chooses its
type: this replaces the method with Daphne's own (4.2) using an Inbox.
"""

import asyncio
from functools import partial

from .inbox import Inbox


def install_small_input_queues() -> None:
    from daphne.server import Server

    if getattr(Server.create_application, "small_queue", False):
        return

    def create_application(self, protocol, scope):
        assert "application_instance" not in self.connections[protocol]
        input_queue = Inbox()
        scope.setdefault("asgi", {"version": "3.0"})
        application_instance = self.application(
            scope=scope,
            receive=input_queue.get,
            send=partial(self.handle_reply, protocol),
        )
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(
            application_instance,
            loop=asyncio.get_event_loop(),
        )
        return input_queue

    create_application.small_queue = True
    Server.create_application = create_application
