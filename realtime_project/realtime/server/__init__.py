"""The server side of the toolkit: Daphne, extended through its own classes.

Started by one entry point, `python -m realtime_project.realtime.server
<app>` (cli.py), which takes Daphne's options. Importing this package (or
the ASGI application) changes no library and no process-wide state; what is
process-wide (the garbage collector, autobahn's debug formatting, the
database thread) is set by the entry point, after the version fence
(versions.py) has checked the libraries the subclasses rely on.

- cli.py: the entry point (Daphne's CommandLineInterface).
- server.py: the Server (its factories, each application's queue, the
  spread keepalive checks).
- websocket.py: the WebSocket protocol and its factory; limits.py and
  direct.py: its limits and direct writes.
- http.py: the HTTP channel's limits; access_log.py: the access log.
- extension.py: the scope extension that hands a consumer its socket.
- process.py: the process-wide settings; versions.py: the version fence.
"""
