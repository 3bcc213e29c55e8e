"""Pagination for every /system list.

A malformed `page`, `page_size` or `cursor` is a 400 naming the parameter (DRF would fall
back to the default page size silently, or answer 404 as if the list did not exist); a page
number past the last page stays DRF's 404.
"""

from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError


def _positive_int_param(request, name: str | None) -> None:
    if not name or name not in request.query_params:
        return
    value = request.query_params[name]
    if not value.isdigit() or int(value) < 1:
        raise ValidationError({name: [f"Must be a whole number of 1 or more, not {value!r}."]})


class StrictPageSizeMixin:
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        name = self.page_size_query_param
        if name not in request.query_params:
            return self.page_size
        _positive_int_param(request, name)
        requested = int(request.query_params[name])
        if requested > self.max_page_size:
            raise ValidationError({name: [f"Must be at most {self.max_page_size}, not {requested}."]})
        return requested


class PageNumberPagination(StrictPageSizeMixin, pagination.PageNumberPagination):
    page_size = 50

    def paginate_queryset(self, queryset, request, view=None):
        value = request.query_params.get(self.page_query_param)
        if value is not None and value != "last":
            _positive_int_param(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)


class IdCursorPagination(StrictPageSizeMixin, pagination.CursorPagination):
    """Cursor pagination for large append-only tables: newest first, constant cost per page."""

    ordering = "-id"
    page_size = 50

    def decode_cursor(self, request):
        invalid = ValidationError(
            {self.cursor_query_param: ["Invalid cursor: use the `next` or `previous` link of a page."]}
        )
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise invalid from None
        # The position is compared with the id column: a crafted `p=abc` would be a 500.
        if cursor is not None and cursor.position is not None and not str(cursor.position).lstrip("-").isdigit():
            raise invalid
        return cursor


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
