"""Admin columns shared by the apps: times to the second, yes/no flags without an alarm icon."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.utils import timezone

EMPTY = "—"


def seconds_column(field_name: str, description: str) -> Callable[[Any, Any], str]:
    """A date-time column to the second (Django's default format stops at minutes: a backoff would not show)."""

    @admin.display(description=description, ordering=field_name)
    def column(modeladmin: Any, obj: Any) -> str:
        value = getattr(obj, field_name)
        if value is None:
            return EMPTY
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")

    return column


def flag_column(field_name: str, description: str, *, when_set: str) -> Callable[[Any, Any], str]:
    """A boolean shown as words when set and a dash when not: "not paused" is no alarm (Django's ✗ reads as one)."""

    @admin.display(description=description, ordering=field_name)
    def column(modeladmin: Any, obj: Any) -> str:
        return when_set if getattr(obj, field_name) else EMPTY

    return column


def value_column(field_name: str, description: str) -> Callable[[Any, Any], str]:
    """A choice field shown by its stored value (`read_only`), as the API and commands name it, not its label."""

    @admin.display(description=description, ordering=field_name)
    def column(modeladmin: Any, obj: Any) -> str:
        return getattr(obj, field_name) or EMPTY

    return column


class ValueChoicesFilter(admin.ChoicesFieldListFilter):
    """A choices filter listing the stored values (`read_only`) rather than the labels ("Read-only")."""

    def choices(self, changelist: Any) -> Any:
        labels = [(str(label), str(value)) for value, label in self.field.flatchoices if value is not None]
        for choice in super().choices(changelist):
            display = str(choice["display"])
            for label, value in labels:
                if display == label or display.startswith(f"{label} ("):  # "(3)": a facet count
                    choice = {**choice, "display": value + display[len(label) :]}
                    break
            yield choice
