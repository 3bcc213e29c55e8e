"""Pagination for every /system list."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class IdCursorPagination(pagination.CursorPagination):
    """Cursor pagination for large append-only tables: newest first, constant cost per page."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def pagination_query_params(view) -> set[str]:
    """The query parameters that the view's paginator reads."""
    paginator_class = getattr(view, "pagination_class", None)
    if paginator_class is None:
        return set()
    names = set()
    for attr in (
        "page_query_param",
        "page_size_query_param",
        "cursor_query_param",
        "limit_query_param",
        "offset_query_param",
    ):
        value = getattr(paginator_class, attr, None)
        if value:
            names.add(value)
    return names
