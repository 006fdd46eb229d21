"""The channel layers (in-memory, Redis pub/sub) and the one-pass local
delivery of a group message that both use (delivery.py)."""
