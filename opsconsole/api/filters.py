"""django-filter as the default backend, refusing query parameters it does not know, and the
filters every /system FilterSet uses so that a bad value is a 400 rather than "no filter" or a 500."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField, RangeField
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.widgets import DateRangeWidget
from rest_framework.exceptions import ValidationError

from opsconsole.api.pagination import pagination_query_params


def filter_keys(filterset_class: type[django_filters.FilterSet]) -> set[str]:
    """The query keys a FilterSet reads: range filters read `<name>_after` / `<name>_before`
    (their bare name would be silently ignored, so it is not a key)."""
    keys: set[str] = set()
    for name, flt in filterset_class.base_filters.items():
        widget = getattr(flt.field_class, "widget", None)
        suffixes = getattr(widget, "suffixes", None)
        if suffixes:
            keys.update(f"{name}_{suffix}" if suffix else name for suffix in suffixes)
        else:
            keys.add(name)
    return keys


class StrictFilterBackend(DjangoFilterBackend):
    """Filter with the view's FilterSet; an unknown query parameter is a 400, not ignored.

    A typo such as `?stauts=failed` would otherwise return every row, which an API
    client would take for the filtered answer.
    """

    def filter_queryset(self, request, queryset, view):
        self.reject_unknown_params(request, view, queryset)
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise ValidationError(self.errors_by_query_key(filterset, request.query_params))
        return filterset.qs

    @staticmethod
    def errors_by_query_key(filterset, query_params) -> dict[str, list[str]]:
        """A range filter reports under its name (`created`); name the keys the client sent
        (`created_after`), as it would look for them."""
        errors: dict[str, list[str]] = {}
        for name, field_errors in filterset.form.errors.as_data().items():
            messages = []
            for error in field_errors:
                text = " ".join(error.messages)
                field = filterset.form.fields.get(name)
                if error.code == "invalid_choice" and getattr(field, "choices", None):
                    text += f" Allowed: {', '.join(str(value) for value, _label in field.choices if value != '')}."
                messages.append(text)
            sent = [key for key in query_params if key.startswith(f"{name}_") and key not in filterset.filters]
            for key in sent or [name]:
                errors[key] = messages
        return errors

    def reject_unknown_params(self, request, view, queryset) -> None:
        allowed = set(pagination_query_params(view))
        allowed |= set(getattr(view, "extra_query_params", ()))
        for backend in getattr(view, "filter_backends", ()):
            for attr in ("search_param", "ordering_param"):
                if getattr(backend, attr, None):
                    allowed.add(getattr(backend, attr))
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            allowed |= filter_keys(filterset_class)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError(
                {name: [f"Unknown query parameter. Allowed: {', '.join(sorted(allowed))}."] for name in unknown}
            )


TRUE_VALUES = frozenset({"true", "1", "yes", "on"})
FALSE_VALUES = frozenset({"false", "0", "no", "off"})
# The range of a signed 64-bit column: PostgreSQL bigint, SQLite INTEGER.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class StrictBooleanField(forms.Field):
    """true/false (also 1/0, yes/no, on/off, any case); anything else is invalid, not "no filter".

    django-filter's BooleanFilter reads its value through NullBooleanSelect, which turns
    `?active=maybe` into None, and None means the filter is skipped: every row comes back.
    """

    widget = forms.TextInput

    def to_python(self, value: object) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time that the database can compare against.

    `9999-12-31T23:59:59-01:00` parses, but is past datetime.max once converted to UTC, and
    the query then dies with OverflowError (a 500) instead of telling the client.
    """

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is not None:
            try:
                parsed.astimezone(dt.UTC)
            except OverflowError:
                raise forms.ValidationError(
                    "Date/time out of range: must lie between 0001-01-01 and 9999-12-31 in UTC.", code="invalid"
                ) from None
        return parsed


class BoundedIsoDateTimeRangeField(RangeField):
    widget = DateRangeWidget

    def __init__(self, *args, **kwargs):
        super().__init__((BoundedIsoDateTimeField(), BoundedIsoDateTimeField()), *args, **kwargs)


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class IsoDateTimeFromToRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    """`<name>_after` / `<name>_before` (ISO 8601), both checked to be in range."""

    field_class = BoundedIsoDateTimeRangeField


class IntegerField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", INT64_MIN)
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(*args, **kwargs)


class IntegerFilter(django_filters.NumberFilter):
    """A whole number within a 64-bit column's range (NumberFilter takes 1.5 and 10**40)."""

    field_class = IntegerField

    def get_max_validator(self):
        return None
