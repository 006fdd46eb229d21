"""What every WebSocket connection of the toolkit does, whichever streams it
carries: accept, count, hear when its credential ends, answer pings, turn
bad input into error frames that keep it open, refuse floods, take
broadcasts from the channel layer (directly, through delivery.py, once it
is ready), and serve its input and its channel with one future (inbox.py).

Two kinds build on it: StreamConsumer (stream.py), one stream per
connection on its single-stream endpoint, and MultiplexConsumer
(multiplex.py), the `/ws/` connection holding any number of subscriptions.
"""

import functools
import json
import logging
import time

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from .. import credentials, protocol
from ..inbox import Inbox, wait_for_any
from ..layers import delivery
from ..ops.metrics import BROADCAST_LATENCY, CLIENTS_DROPPED, count_delivered
from ..rate_limit import RateLimit
from ..server.direct import send_text_now
from ..server.extension import socket_of
from ..streams.access import ClientError, CloseCode

logger = logging.getLogger(__name__)


class Connection(AsyncWebsocketConsumer):
    """A WebSocket of the toolkit: see the module's docstring."""

    # Its name in logs and metrics.
    label = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_open = False
        self.user_id: int | None = None
        self.inbound = RateLimit(settings.REALTIME_MESSAGES_PER_SECOND, settings.REALTIME_MESSAGES_BURST)
        self.rate_strikes = 0
        # This connection's handle in delivery.py, which writes broadcasts
        # to its socket directly while nothing is queued for it.
        self.receiver: delivery.Receiver | None = None
        self.socket = None

    # --- What a kind of connection provides -------------------------------

    async def handle(self, kind: str, message: dict) -> bool:
        """Handle a client message of type `kind` (not ping); False if no such type."""
        return False

    def outgoing_text(self, event) -> str | None:
        """What of a `stream.event` this client gets: None if nothing.

        delivery.deliver makes the same decision inline for the common case
        (the text as it is), once per receiver of every broadcast: change
        both together (tests/realtime/test_delivery.py compares them)."""
        raise NotImplementedError

    async def catch_up(self) -> bool:
        """Make up for live messages the channel layer may have lost; return
        whether this connection was open to do so."""
        raise NotImplementedError

    async def release(self) -> None:
        """Release what the connection's streams hold (it closed)."""

    def uncount(self) -> None:
        """Stop counting this connection in statistics and metrics."""

    # --- Lifecycle ----------------------------------------------------------

    @property
    def user(self):
        return self.scope.get("user")

    @property
    def signed_in(self) -> bool:
        return self.user is not None and self.user.is_authenticated

    def start_receiving(self) -> None:
        # Before joining any group: from the first group_add on, what the
        # layer queues for us must be sent before anything written directly.
        self.receiver = delivery.track(self.channel_name, write=self.deliver_now, catch_up=self.catch_up)

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        # Channels discards `self.groups` on a normal disconnect.
        self.groups.append(group)

    async def leave(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)
        if group in self.groups:
            self.groups.remove(group)

    def credential_groups(self) -> list[str]:
        # Every authenticated connection hears when the credential it was
        # opened with ends (credentials_ended).
        return [credentials.user_group(self.user.pk)] if self.signed_in else []

    def go_direct(self, *, replayed: bool) -> None:
        """Let delivery write live messages to this socket directly (under
        Daphne), after whatever was queued meanwhile."""
        self.socket = socket_of(self.scope)
        if self.socket is not None and self.receiver is not None:
            delivery.ready(self.receiver, self.socket, replayed=replayed)

    async def disconnect(self, code):
        if self.is_open:
            self.forget(code)
            await self.release()

    async def __call__(self, scope, receive, send):
        try:
            # Under Daphne (realtime/server/server.py) `receive` is an Inbox's
            # get, and this project's layers let a channel be read without a task.
            client = getattr(receive, "__self__", None)
            layer = get_channel_layer(self.channel_layer_alias)
            if isinstance(client, Inbox) and hasattr(layer, "receive_nowait"):
                await self.serve(scope, client, send, layer)
            else:
                await super().__call__(scope, receive, send)
        finally:
            if self.is_open:
                # Daphne cancels an application that overruns its handshake
                # or close timeout, and then disconnect() never runs: without
                # this the connection would count against its user's limit,
                # and stay in its groups, for the life of the process.
                self.forget("cancelled")
                await self.leave_groups()

    async def serve(self, scope, client: Inbox, send, layer) -> None:
        """Channels' AsyncConsumer.__call__, waiting for what the client sends
        and what the channel layer queues with one future (inbox.py).

        Channels runs a task per source and `asyncio.wait` over them: per
        idle connection six coroutine frames, two tasks and their contexts
        (docs/PERFORMANCE.md, item 14). The two are served in turn, one
        message each, as Channels' loop does when both have something."""
        self.scope = scope
        self.channel_layer = layer
        self.channel_name = await layer.new_channel()
        self.channel_receive = functools.partial(layer.receive, self.channel_name)
        self.base_send = send
        try:
            while True:
                handled = False
                if not client.empty():
                    await self.dispatch(client.get_nowait())
                    handled = True
                message = layer.receive_nowait(self.channel_name)
                if message is not None:
                    await self.dispatch(message)
                    handled = True
                if not handled:
                    await wait_for_any(client, layer.inbox(self.channel_name))
        except StopConsumer:
            pass
        finally:
            layer.forget_channel(self.channel_name)

    async def leave_groups(self) -> None:
        for group in self.groups:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                logger.exception("leaving %s failed", group)
        try:
            await self.release()
        except Exception:
            logger.exception("closing %s failed", self.label)

    def forget(self, code) -> None:
        """Stop counting this connection, once."""
        self.is_open = False
        if self.receiver is not None:
            delivery.forget(self.receiver)
        self.uncount()
        logger.info("disconnected %s %s %s code=%s", self.label, self.scope["path"], self.who(), code)

    def who(self) -> str:
        return f"user={self.user.pk}" if self.signed_in else "anonymous"

    async def dispatch(self, message):
        # Channels 4.3 hops to a worker thread to close stale database
        # connections before every message. Our handlers reach the database
        # only through database_sync_to_async, which does that itself, so
        # the hop is pure cost on every delivered event.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        try:
            await handler(message)
        finally:
            if self.receiver is not None and not message["type"].startswith("websocket."):
                delivery.handled(self.receiver)

    # --- Channel layer -> client ------------------------------------------

    async def stream_event(self, event):
        """Forward an encoded envelope from the channel layer to the client."""
        text = self.outgoing_text(event)
        if text is None:
            return
        await self.send(text_data=text)
        count_delivered(event.get("kind", ""))
        if "sent_at" in event:
            BROADCAST_LATENCY.observe(max(0.0, time.time() - event["sent_at"]))

    async def credentials_ended(self, event):
        """Close with 4401 when the credential this connection was opened
        with has ended (signed out, password changed, token replaced...)."""
        if self.is_open and credentials.ended(event, self.scope.get("credential")):
            await self.shut(CloseCode.NOT_AUTHENTICATED, "credentials ended: sign in again")

    def deliver_now(self, event, frames: dict) -> bool:
        """Write a channel-layer `stream.event` to the socket at once (see
        delivery.py): stream_event without the trip through this consumer's
        queue and task. Return whether a frame was written."""
        text = self.outgoing_text(event)
        return text is not None and send_text_now(self.socket, text, frames)

    async def shut(self, code: CloseCode, reason: str) -> None:
        """Close the connection with `code` and stop handling its input."""
        CLIENTS_DROPPED.labels(reason=reason).inc()
        self.forget(int(code))
        await self.release()
        await self.close(code=int(code), reason=reason)

    # Client message types with a budget of their own (not the messages').
    budgeted_apart: frozenset[str] = frozenset()

    async def within_budget(self, kind: str | None) -> bool:
        """Whether a client message of type `kind` may be handled: within the
        messages' rate, or of a type budgeted apart."""
        if kind in self.budgeted_apart:
            return True
        if not self.inbound.allow():
            await self.refuse_flood()
            return False
        self.rate_strikes = 0
        return True

    async def refuse_flood(self) -> None:
        # A client over the rate is warned first; one that keeps going (a
        # burst's worth of refused messages in a row) is disconnected.
        self.rate_strikes += 1
        if self.rate_strikes > settings.REALTIME_MESSAGES_BURST:
            await self.shut(CloseCode.TOO_MANY, "too many messages")
        else:
            await self.send_error("rate_limited", "too many messages: slow down")

    async def send_message(self, kind: str, data: dict, stream: str | None = None) -> None:
        await self.send(text_data=protocol.encode(kind, data, stream))

    async def send_error(self, code: str, message: str, stream: str | None = None) -> None:
        await self.send(text_data=protocol.error_frame(code, message, stream))

    # --- Client -> server -------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if not self.is_open:
            return
        # Under Daphne, autobahn refuses an oversized message before it gets
        # here (realtime/server/limits.py); this covers other ASGI servers.
        if len(text_data if text_data is not None else bytes_data) > settings.REALTIME_MAX_MESSAGE_BYTES:
            await self.shut(CloseCode.TOO_BIG, "message too big")
            return
        if text_data is None:
            if await self.within_budget(None):
                await self.send_error("unsupported_frame", "send JSON text frames, not binary")
            return
        if text_data.strip() == "ping":
            if await self.within_budget("ping"):
                await self.send_message(protocol.PONG, {})
            return
        try:
            message = json.loads(text_data)
        except (ValueError, RecursionError):
            # RecursionError: JSON nested deeper than the parser's stack (a
            # few kilobytes of "[[[[..."), which is not a ValueError.
            if await self.within_budget(None):
                await self.send_error("invalid_json", "the message is not valid JSON")
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if not await self.within_budget(kind if isinstance(kind, str) else None):
            return
        if not isinstance(kind, str):
            await self.send_error("invalid_message", 'expected a JSON object with a string "type"')
            return
        if kind == "ping":
            await self.send_message(protocol.PONG, {})
            return
        try:
            if not await self.handle(kind, message):
                await self.send_error("unknown_type", f"unsupported message type {kind[:40]!r}")
        except StopConsumer:
            raise
        except ClientError as refused:
            await self.send_error(refused.code, refused.message, refused.stream)
        except Exception:
            # A bug in one handler must not take the connection down.
            logger.exception("handling a %r message failed", kind)
            await self.send_error("internal_error", "the message could not be processed")
