"""The tripwire and the version fence of realtime/server/.

The server package subclasses Daphne, autobahn and Twisted and reads some of
their attributes; the layers subclass Channels' and channels-redis'. Each
upstream function or class this code overrides, wraps or relies on the
inside of is fingerprinted here at the pinned version (versions.TESTED):
when an upgrade changes one, the test says which to re-read, and why it
matters. After re-reading, update its fingerprint (`fingerprint(...)`).
"""

import hashlib
import importlib
import inspect

import pytest

from realtime_project.realtime.server import versions

# "module:qualified.name": (fingerprint at the pinned version, why it matters)
UPSTREAM = {
    "daphne.server:Server.__init__": ("e090af1e2673d44f", "RealtimeServer.__init__ wraps its action_logger"),
    "daphne.server:Server.run": (
        "447c6bd42c62e98c",
        "it assigns http_factory / ws_factory, which RealtimeServer's properties replace "
        "with this package's factories",
    ),
    "daphne.server:Server.create_application": (
        "f1e300b4ecf636c8",
        "RealtimeServer.create_application is Daphne's, with an Inbox and the socket extension",
    ),
    "daphne.server:Server.timeout_checker": (
        "6b70373a3a77cb2b",
        "RealtimeServer.timeout_checker spreads Daphne's checks over its period",
    ),
    "daphne.server:Server.handle_reply": (
        "9d9dbaea6de0657a",
        "consumers send through it; direct writes go around it",
    ),
    "daphne.ws_protocol:WebSocketProtocol.onConnect": (
        "b1ce2efc1874b9b5",
        "RealtimeWebSocketProtocol.onConnect sets limits before it",
    ),
    "daphne.ws_protocol:WebSocketProtocol.onOpen": (
        "6be066589e00abb0",
        "RealtimeWebSocketProtocol.onOpen drops the handshake after it",
    ),
    "daphne.ws_protocol:WebSocketProtocol.onClose": (
        "4d3b4d7c66afc2ba",
        "it reads protocol.request, which forget_handshake replaces by OpenedRequest",
    ),
    "daphne.ws_protocol:WebSocketProtocol.serverSend": (
        "345f21330d2a18ce",
        "RealtimeWebSocketProtocol.serverSend wraps it with the size limits",
    ),
    "daphne.ws_protocol:WebSocketProtocol.serverClose": (
        "8302150efac698d6",
        "RealtimeWebSocketProtocol.serverClose sends 1012/1013 beside it",
    ),
    "daphne.ws_protocol:WebSocketProtocol.check_timeouts": (
        "0e2ee6816a93a598",
        "the spread checker calls it for a slice of connections",
    ),
    "daphne.ws_protocol:WebSocketFactory.buildProtocol": (
        "5e5efc1073781d68",
        "RealtimeWebSocketFactory builds from a subclass holding the options",
    ),
    "daphne.http_protocol:HTTPFactory": ("72966f5b28961a48", "RealtimeHTTPFactory subclasses it"),
    "daphne.http_protocol:WebRequest.process": (
        "e9babd1c97ce710b",
        "ForwardedClientRequest sets the client before it",
    ),
    "daphne.access:AccessLogGenerator.__call__": (
        "6336ae23d2ba83f5",
        "RedactingAccessLog redacts details before it",
    ),
    "daphne.cli:CommandLineInterface.run": (
        "039cb21244f402ac",
        "it loads the application before building server_class, whose run() then prepares the process",
    ),
    "autobahn.websocket.protocol:WebSocketProtocol.sendData": (
        "5dcca425b048b07e",
        "RealtimeWebSocketProtocol.sendData writes directly beside it",
    ),
    "autobahn.websocket.protocol:WebSocketProtocol.sendMessage": (
        "048d6bcf0d712309",
        "serverSend holds outgoing sizes as it does, and swaps maxMessagePayloadSize around it",
    ),
    "autobahn.websocket.protocol:WebSocketProtocol._connectionMade": (
        "7ac58d8bb6c3c752",
        "it copies factory options unless the protocol has them, and makes send_queue",
    ),
    "autobahn.websocket.protocol:WebSocketProtocol.sendCloseFrame": (
        "a511406d6b0d711e",
        "serverClose sends 1012/1013 with it",
    ),
    "autobahn.websocket.protocol:WebSocketProtocol.processData": (
        "25b9c1387a46ab25",
        "the inbound size limits are read from the protocol's attributes there",
    ),
    "autobahn.websocket.protocol:WebSocketProtocol._sendAutoPing": (
        "344058949ed67de3",
        "pings go out through the direct sendData",
    ),
    "autobahn.websocket.protocol:PreparedMessage": (
        "9f2784264605a767",
        "direct.prepared_frame frames broadcasts with it (payloadHybi)",
    ),
    "autobahn.websocket.protocol:Timings.__str__": (
        "6a8cac1b554e3bd8",
        "debug_log replaces it for the process (no hook)",
    ),
    "twisted.internet.abstract:FileDescriptor.write": (
        "3e46c97fc173bc7e",
        "direct.writable_now reads dataBuffer, offset and _tempDataLen",
    ),
    "twisted.internet.abstract:FileDescriptor.doWrite": (
        "a986d7b1b1054e43",
        "direct.writable_now reads the buffer it drains",
    ),
    "twisted.internet.tcp:Connection.writeSomeData": (
        "2dd0d4209260b94e",
        "direct.send_now writes to the socket as it does",
    ),
    "twisted.internet.abstract:FileDescriptor.writeSequence": (
        "1606f230d318191a",
        "WatchedServer overrides it",
    ),
    "twisted.web.http:HTTPChannel.dataReceived": ("152316e9ce502109", "BoundedHTTPChannel overrides it"),
    "twisted.web.http:HTTPChannel.allHeadersReceived": (
        "979a9a8410f41ad9",
        "BoundedHTTPChannel overrides it",
    ),
    "twisted.web.http:HTTPChannel.requestDone": ("a75a186c66f7d38d", "BoundedHTTPChannel overrides it"),
    "twisted.web.http:HTTPChannel.timeoutConnection": ("f08552855cd242e0", "BoundedHTTPChannel overrides it"),
    "twisted.web.http:HTTPChannel.rawDataReceived": ("e31f4ed81196fab0", "BoundedHTTPChannel overrides it"),
    "twisted.web.http:HTTPChannel.connectionMade": ("95b71a1bc3abb905", "BoundedHTTPChannel overrides it"),
    "twisted.web.http:_genericHTTPChannelProtocolFactory": (
        "210f382c5b978135",
        "RealtimeHTTPFactory.protocol builds what it builds, with our channel",
    ),
    "twisted.web.http:HTTPFactory.buildProtocol": (
        "d08b3853c62705a5",
        "RealtimeHTTPFactory.buildProtocol sets the timeout after it",
    ),
    "channels.db:DatabaseSyncToAsync.thread_handler": (
        "00f86b58c522f98e",
        "StreamDatabaseSyncToAsync overrides it",
    ),
    "channels.layers:InMemoryChannelLayer": (
        "aa69668efe7fe2dd",
        "layers/inmemory.py FanOutInMemoryChannelLayer overrides its send, receive and expiry",
    ),
    "channels_redis.pubsub:RedisSingleShardConnection": (
        "2bae23cd891e94d1",
        "layers/redis_pubsub.py _OnePassShard overrides its receiving loop",
    ),
    "channels_redis.pubsub:RedisPubSubLoopLayer": (
        "eb21fee33c3e3c2c",
        "layers/redis_pubsub.py _OnePassLoopLayer overrides its channels, send and receive",
    ),
    "channels_redis.pubsub:RedisPubSubChannelLayer._get_layer": (
        "1862b87a25ac72b2",
        "FanOutRedisPubSubChannelLayer._get_layer is its own",
    ),
    "redis.asyncio.client:Redis.pubsub": (
        "604e8d4bfea773d4",
        "layers/redis_pubsub.py _OnePassShard builds its WatchedPubSub with the arguments it passes",
    ),
    "redis.asyncio.client:PubSub.on_connect": (
        "4f91994e4caeecb7",
        "layer_watch reacts to the reconnections it restores",
    ),
    "redis.asyncio.client:PubSub.get_message": (
        "bf92023c2c452e85",
        "layers/redis_pubsub.py _OnePassShard's receiving loop calls it",
    ),
}


def fingerprint(name: str) -> str:
    module, _, qualified = name.partition(":")
    obj = importlib.import_module(module)
    for part in qualified.split("."):
        obj = getattr(obj, part)
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]


@pytest.mark.parametrize("name", sorted(UPSTREAM))
def test_each_upstream_function_the_server_relies_on_is_as_it_was_read(name):
    expected, why = UPSTREAM[name]
    assert fingerprint(name) == expected, f"re-read {name} against upstream: {why}"


def test_the_installed_libraries_are_the_versions_the_server_was_tested_with():
    assert versions.mismatches() == {}


def test_requirements_pin_every_fenced_library_at_its_tested_version():
    from pathlib import Path

    pins = {}
    for line in (Path(__file__).resolve().parents[2] / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower().replace("_", "-")] = version.split()[0]
    assert {name: pins.get(name) for name in versions.TESTED} == versions.TESTED


def test_another_version_of_a_fenced_library_turns_the_fast_path_off_and_says_so(caplog):
    tested = dict(versions.TESTED, twisted="1.0.0")
    assert versions.fast_path_allowed(tested) is False
    assert "twisted" in caplog.text and "without the fast path" in caplog.text
    assert versions.fast_path_allowed() is True
