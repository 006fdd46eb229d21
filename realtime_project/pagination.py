from rest_framework.pagination import CursorPagination


class NewestFirstPagination(CursorPagination):
    """Newest first, by cursor: a page stays stable while new items arrive at the top."""

    ordering = "-id"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
