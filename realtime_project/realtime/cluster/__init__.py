"""What the server processes sharing one channel layer share through
Redis: who is connected where (presence.py, registry.py) and leases."""
