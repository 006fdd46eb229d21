"""The shared real-time toolkit: everything the four streams have in common.

It imports no feature app and nothing of the project outside this package.

- protocol.py: the wire format of every server-to-client message.
- consumers/: the base consumer every stream subclasses (access, groups,
  resume, ping, errors, limits).
- events/: what services send: on commit (broadcast.py), in id order
  (ordering.py), coalesced (coalescing.py), and what a resume replays
  (replay.py).
- layers/: the channel layers, in-memory and Redis, and the one-pass write
  of a broadcast to this process's sockets (delivery.py).
- middleware/: the ASGI stack in front of the consumers (client address,
  connection caps, Origin, authentication, the server loop).
- cluster/: what the server processes share through Redis: connection
  counts and presence, leases.
- ops/: health, metrics, connection statistics, log redaction.
- server/: Daphne, extended through its own classes, and the entry point.
- credentials.py: sockets that end with the credential they opened with.
- inbox.py, rate_limit.py, stream_database.py: primitives the above share.
"""
