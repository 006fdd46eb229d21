"""The base consumer every stream's consumer subclasses.

It accepts, authenticates and checks access (closing with PROTOCOL.md's
codes), joins the stream's groups through `self.groups` so Channels discards
them on disconnect, answers pings, turns bad input into error frames that
keep the connection open, counts connections, and forwards `stream.event`
messages from the channel layer. A subclass says which groups to join, what
snapshot to send on connect, and which client message types it accepts.
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
from ..cluster.presence import publish_now
from ..cluster.registry import registry
from ..events.replay import Replay
from ..inbox import Inbox, wait_for_any
from ..layers import delivery
from ..middleware.auth import query_param
from ..ops.metrics import (
    BROADCAST_LATENCY,
    CLIENTS_DROPPED,
    CONNECTIONS_OPEN,
    CONNECTIONS_REFUSED,
    count_delivered,
)
from ..rate_limit import RateLimit
from ..server.direct import send_text_now
from ..server.extension import socket_of
from .access import AccessDenied, CloseCode

logger = logging.getLogger(__name__)


class StreamConsumer(AsyncWebsocketConsumer):
    """A WebSocket stream: access check, groups, snapshot, ping, errors."""

    # The stream's name in statistics and presence (cluster.users_online).
    stream = ""
    # True for streams that belong to one user (notifications, feed): they
    # count toward `active_users`/`total_user_connections` in /ws/stats.
    per_user = False
    # True for streams of database rows a client resumes with `?since=`
    # (notifications, feed); the others send a snapshot on connect.
    resumable = False
    # Client message `type` -> name of the method handling it (besides ping).
    client_messages: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_open = False
        self.user_id: int | None = None
        self.replayed_ids: frozenset[str] = frozenset()
        self.inbound = RateLimit(settings.REALTIME_MESSAGES_PER_SECOND, settings.REALTIME_MESSAGES_BURST)
        self.rate_strikes = 0
        # This consumer's handle in delivery.py, which writes broadcasts to
        # its socket directly while nothing is queued for it.
        self.receiver: delivery.Receiver | None = None
        self.socket = None

    # --- What subclasses provide ----------------------------------------

    async def authorize(self) -> None:
        """Raise AccessDenied when this client may not open this stream."""

    def stream_groups(self) -> list[str]:
        """Return the names of the groups this connection listens to."""
        raise NotImplementedError

    async def send_snapshot(self) -> None:
        """Send what a client sees at once on connect (nothing by default)."""

    async def replay_since(self, since: int) -> Replay | None:
        """Return what the client missed after row `since` (streams of rows only)."""
        return None

    def without_replayed(self, data: dict, replayed: frozenset[str]) -> dict | None:
        """Return `data` minus the rows already replayed (for messages of several rows)."""
        return data

    async def on_close(self) -> None:
        """Release what the stream holds for this connection."""

    # --- Helpers for authorize() ----------------------------------------

    def check_connection_limit(self) -> None:
        # One user opening sockets without end would exhaust the server for
        # all. Only their own streams count: trending and engagement are
        # public, and a page watches the counters of every tweet it shows.
        user = self.user
        if self.per_user and user is not None and user.is_authenticated:
            if registry.connections_of(user.pk) >= settings.REALTIME_MAX_CONNECTIONS_PER_USER:
                raise AccessDenied(CloseCode.TOO_MANY, "too many connections for this user")

    @property
    def user(self):
        return self.scope.get("user")

    def url_arg(self, name: str) -> str:
        return self.scope["url_route"]["kwargs"][name]

    def require_authenticated(self) -> None:
        if self.user is None or not self.user.is_authenticated:
            raise AccessDenied(CloseCode.NOT_AUTHENTICATED, "authentication required")

    def require_owner(self, user_id: str) -> None:
        """Allow only the authenticated user whose id is `user_id`."""
        self.require_authenticated()
        if str(self.user.pk) != str(user_id):
            raise AccessDenied(CloseCode.FORBIDDEN, "this stream belongs to another user")

    # --- Connection lifecycle -------------------------------------------

    async def connect(self):
        # Accept first, then close with a code: a refused handshake reaches
        # the client as a bare HTTP 403 it cannot tell apart from others.
        await self.accept()
        try:
            await self.authorize()
            self.check_connection_limit()
        except AccessDenied as denied:
            CONNECTIONS_REFUSED.labels(code=int(denied.code)).inc()
            logger.info("refused %s %s: %s", self.stream or "?", self.who(), denied.reason)
            await self.close(code=int(denied.code), reason=denied.reason)
            return
        # Counted before joining: from the first group_add on, what the layer
        # queues for us must be sent before anything it could write directly.
        self.receiver = delivery.track(self.channel_name, write=self.deliver_now, catch_up=self.catch_up)
        for group in self.stream_groups() + self.credential_groups():
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups.append(group)
        self.is_open = True
        self.user_id = self.user.pk if self.user and self.user.is_authenticated else None
        registry.opened(stream=self.stream, user_id=self.user_id, per_user=self.per_user)
        if self.per_user:
            # Before the client hears anything: from now on it is "online"
            # for the fan-out of every process.
            await publish_now()
        CONNECTIONS_OPEN.labels(stream=self.stream).inc()
        # The path only: the query string may hold a token or ticket.
        logger.info("connected %s %s %s", self.stream, self.scope["path"], self.who())
        await self.resume()
        await self.send_snapshot()
        # Replay and snapshot are out: live messages may now be written
        # directly (under Daphne), after whatever was queued meanwhile.
        self.socket = socket_of(self.scope)
        if self.socket is not None:
            delivery.ready(self.receiver, self.socket, replayed=bool(self.replayed_ids))

    def credential_groups(self) -> list[str]:
        # Every authenticated connection, of any stream, hears when the
        # credential it was opened with ends (credentials_ended).
        user = self.user
        if user is None or not user.is_authenticated:
            return []
        return [credentials.user_group(user.pk)]

    async def resume(self) -> None:
        """Replay what the client missed since `?since=<id>`, oldest first.

        The groups are joined before the database is read, and Channels
        delivers this connection's live messages only after connect()
        returns: nothing committed in between is lost, and what both the
        replay and a live message carry is sent once (see stream_event).
        """
        raw = query_param(self.scope, "since")
        if raw is None:
            return
        since = parse_row_id(raw)
        if since is None:
            await self.send_error("invalid_since", "since must be the id of the last item seen")
            return
        replay = await self.replay_since(since)
        if replay is None:
            return
        if replay.truncated:
            await self.send_error(
                "replay_truncated",
                "too much was missed to replay it all: the newest items follow; reload the rest",
            )
        for kind, data in replay.frames:
            await self.send_message(kind, data)
        self.replayed_ids = replay.ids

    async def disconnect(self, code):
        if self.is_open:
            self.forget(code)
            await self.on_close()

    async def __call__(self, scope, receive, send):
        try:
            # Under Daphne (realtime/server/server.py) `receive` is an Inbox's get,
            # and this project's layers let a channel be read without a task.
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
            await self.on_close()
        except Exception:
            logger.exception("closing %s failed", self.stream)

    async def catch_up(self) -> bool:
        """Make up for live messages the channel layer may have lost; return
        whether this connection was open to do so.

        A stream of rows closes (4429) so that its client resumes from the
        last id it saw, and the replay brings what was lost; the others send
        their snapshot again, which holds the current state.
        """
        if not self.is_open:
            return False
        if self.resumable:
            await self.shut(CloseCode.TOO_MANY, "live messages may have been lost: resume with since")
        else:
            await self.send_snapshot()
        return True

    def forget(self, code) -> None:
        """Stop counting this connection, once."""
        self.is_open = False
        if self.receiver is not None:
            delivery.forget(self.receiver)
        registry.closed(stream=self.stream, user_id=self.user_id)
        CONNECTIONS_OPEN.labels(stream=self.stream).dec()
        logger.info("disconnected %s %s %s code=%s", self.stream, self.scope["path"], self.who(), code)

    def who(self) -> str:
        user = self.user
        return f"user={user.pk}" if user is not None and user.is_authenticated else "anonymous"

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

    def outgoing_text(self, event) -> str | None:
        """What of a `stream.event` this client gets: None if nothing.

        delivery.deliver makes the same decision inline for the common case
        (the text as it is), once per receiver of every broadcast: change
        both together (tests/realtime/test_delivery.py compares them)."""
        if not self.is_open or event.get("exclude") == self.channel_name:
            return None
        if self.replayed_ids and event.get("ids"):
            return self.drop_replayed(event)
        return event["text"]

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
        await self.on_close()
        await self.close(code=int(code), reason=reason)

    async def refuse_flood(self) -> None:
        # A client over the rate is warned first; one that keeps going (a
        # burst's worth of refused messages in a row) is disconnected.
        self.rate_strikes += 1
        if self.rate_strikes > settings.REALTIME_MESSAGES_BURST:
            await self.shut(CloseCode.TOO_MANY, "too many messages")
        else:
            await self.send_error("rate_limited", "too many messages: slow down")

    def drop_replayed(self, event) -> str | None:
        """The event's text without rows the replay already sent; None if nothing is left."""
        ids = event["ids"]
        fresh = [row_id for row_id in ids if row_id not in self.replayed_ids]
        if len(fresh) == len(ids):
            return event["text"]
        if not fresh:
            return None
        frame = json.loads(event["text"])
        data = self.without_replayed(frame["data"], self.replayed_ids)
        return protocol.encode(frame["type"], data) if data else None

    async def send_message(self, kind: str, data: dict) -> None:
        await self.send(text_data=protocol.encode(kind, data))

    async def send_error(self, code: str, message: str) -> None:
        await self.send(text_data=protocol.error_frame(code, message))

    # --- Client -> server -------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if not self.is_open:
            return
        # Under Daphne, autobahn refuses an oversized message before it gets
        # here (realtime/server/limits.py); this covers other ASGI servers.
        if len(text_data if text_data is not None else bytes_data) > settings.REALTIME_MAX_MESSAGE_BYTES:
            await self.shut(CloseCode.TOO_BIG, "message too big")
            return
        if not self.inbound.allow():
            await self.refuse_flood()
            return
        self.rate_strikes = 0
        if text_data is None:
            await self.send_error("unsupported_frame", "send JSON text frames, not binary")
            return
        if text_data.strip() == "ping":
            await self.send_message(protocol.PONG, {})
            return
        try:
            message = json.loads(text_data)
        except (ValueError, RecursionError):
            # RecursionError: JSON nested deeper than the parser's stack (a
            # few kilobytes of "[[[[..."), which is not a ValueError.
            await self.send_error("invalid_json", "the message is not valid JSON")
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.send_error("invalid_message", 'expected a JSON object with a string "type"')
            return
        kind = message["type"]
        if kind == "ping":
            await self.send_message(protocol.PONG, {})
            return
        handler_name = self.client_messages.get(kind)
        if handler_name is None:
            await self.send_error("unknown_type", f"unsupported message type {kind[:40]!r}")
            return
        try:
            await getattr(self, handler_name)(message)
        except StopConsumer:
            raise
        except Exception:
            # A bug in one handler must not take the connection down.
            logger.exception("handling a %r message failed", kind)
            await self.send_error("internal_error", "the message could not be processed")


def parse_row_id(raw: str) -> int | None:
    """A database id from client input, or None if it is not one."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if 0 <= value < 2**63 else None


class UnknownStreamConsumer(StreamConsumer):
    """Any other /ws/ path: closed with 4404 so a client stops retrying."""

    async def authorize(self):
        raise AccessDenied(CloseCode.NOT_FOUND, "no such stream")
