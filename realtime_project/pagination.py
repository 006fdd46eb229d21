"""Cursor pagination of the REST lists."""

import re

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

# What this server writes as a cursor's position: an id, a 64-bit integer.
ID_POSITION = re.compile(r"-?[0-9]{1,19}")
ID_RANGE = range(-(2**63), 2**63)


class NewestFirstPagination(CursorPagination):
    """Newest first, by cursor: a page stays stable while new items arrive at the top."""

    ordering = "-id"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request):
        """DRF's cursor, with a position that is not an id refused as an invalid cursor.

        DRF checks the offset and direction but passes the position, which
        the client can write anything into, straight to the id lookup: "abc"
        or "1.5" is a ValueError there, and 5,000 digits are past the length
        int() takes, all 500s. Every ordering here is by id, so an id is
        what this server encodes: any other position is a cursor it never
        sent, and gets DRF's answer to one (404 "Invalid cursor").
        """
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            position = cursor.position
            if not ID_POSITION.fullmatch(position) or int(position) not in ID_RANGE:
                raise NotFound(self.invalid_cursor_message)
        return cursor
