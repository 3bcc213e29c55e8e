"""django-filter as the default backend, refusing query parameters it does not know."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

from opsconsole.api.pagination import pagination_query_params

# Parameters any view accepts: DRF's content negotiation.
ALWAYS_ALLOWED = {"format"}


class StrictFilterBackend(DjangoFilterBackend):
    """Filter with the view's FilterSet; an unknown query parameter is a 400, not ignored.

    A typo such as `?stauts=failed` would otherwise return every row, which an API
    client would take for the filtered answer.
    """

    def filter_queryset(self, request, queryset, view):
        self.reject_unknown_params(request, view, queryset)
        return super().filter_queryset(request, queryset, view)

    def reject_unknown_params(self, request, view, queryset) -> None:
        allowed = set(ALWAYS_ALLOWED) | pagination_query_params(view)
        allowed |= set(getattr(view, "extra_query_params", ()))
        for backend in getattr(view, "filter_backends", ()):
            for attr in ("search_param", "ordering_param"):
                if getattr(backend, attr, None):
                    allowed.add(getattr(backend, attr))
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            for name, field in filterset_class.base_filters.items():
                allowed.add(name)
                # Range-style filters (DateFromToRangeFilter, ...) read name_after/name_before etc.
                widget = getattr(field.field_class, "widget", None)
                suffixes = getattr(widget, "suffixes", None)
                if suffixes:
                    allowed.update(f"{name}_{suffix}" if suffix else name for suffix in suffixes)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError(
                {name: [f"Unknown query parameter. Allowed: {', '.join(sorted(allowed))}."] for name in unknown}
            )
