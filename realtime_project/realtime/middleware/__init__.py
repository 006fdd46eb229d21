"""The ASGI middleware in front of every stream consumer (the order is
realtime_project/asgi.py's)."""
