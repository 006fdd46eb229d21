"""Daphne's access log, without query strings.

A WebSocket URL may carry `?token=` or `?ticket=`; Daphne logs WebSocket
paths without their query string, but a plain HTTP request to such a URL
(a crawler, a misconfigured client) is logged with it. No credential may
reach a log file, so the query string is left out of every line.
"""


def install_query_free_access_log() -> None:
    """Make Daphne's access log write paths without their query strings."""
    from daphne.access import AccessLogGenerator

    if getattr(AccessLogGenerator.__call__, "query_free", False):
        return
    write_with_query = AccessLogGenerator.__call__

    def __call__(self, protocol, action, details):
        path = details.get("path")
        if isinstance(path, str) and "?" in path:
            details = dict(details, path=path.split("?", 1)[0])
        return write_with_query(self, protocol, action, details)

    __call__.query_free = True
    AccessLogGenerator.__call__ = __call__
