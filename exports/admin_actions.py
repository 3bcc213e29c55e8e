"""`export_rows_action`: an admin action that turns a changelist's current filters into an export job.

    class OutboxAdmin(admin.ModelAdmin):
        action_form = ExportActionForm  # the format picker beside the action menu
        actions = [export_rows_action("notifications.outbox", lookups={"channel__id__exact": "channel"})]

The job stores the dataset's filters, never the ids of the rows on screen, and it
covers every row matching the changelist's filters, on every page. A changelist filter
the dataset cannot express (a search box, an unmapped lookup) refuses the export rather
than silently exporting more rows than the staff member is looking at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import ALL_VAR, IS_POPUP_VAR, ORDER_VAR, PAGE_VAR, SEARCH_VAR, TO_FIELD_VAR
from django.utils import timezone
from django.utils.html import format_html

from exports.exceptions import ExportError
from exports.registry import get_dataset

# Changelist parameters that do not narrow the rows.
_PRESENTATION = {ALL_VAR, ORDER_VAR, PAGE_VAR, IS_POPUP_VAR, TO_FIELD_VAR, "_changelist_filters", "e"}
_RANGE = {"gte": "after", "gt": "after", "lt": "before", "lte": "before"}


def changelist_filters_to_params(
    query: Mapping[str, str],
    *,
    dataset_name: str,
    lookups: Mapping[str, str] | None = None,
    date_fields: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Translate changelist query parameters into the dataset's filter_params.

    `lookups` maps an admin parameter to a dataset filter key (`channel__id__exact` ->
    `channel`); `<key>__exact` maps to `<key>` by itself when the dataset has that filter.
    `date_fields` maps a model date field to a range filter (`created_at` -> `created`),
    which takes the admin's date filters (`__gte`/`__lt`) and date hierarchy
    (`__year`/`__month`/`__day`). Raises ValueError naming a filter it cannot express.
    """
    dataset = get_dataset(dataset_name)
    allowed = dataset.filter_keys()
    lookups = dict(lookups or {})
    date_fields = dict(date_fields or {})
    params: dict[str, str] = {}
    hierarchy: dict[str, dict[str, int]] = {}
    for key, value in query.items():
        if key in _PRESENTATION:
            continue
        if key == SEARCH_VAR:
            if value:
                raise ValueError("a search cannot be exported as a filter; clear the search box first")
            continue
        if key in lookups:
            params[lookups[key]] = value
            continue
        field, _, lookup = key.rpartition("__")
        if field in date_fields and lookup in _RANGE:
            params[f"{date_fields[field]}_{_RANGE[lookup]}"] = _as_iso(value, lookup=lookup)
            continue
        if field in date_fields and lookup in {"year", "month", "day"}:
            hierarchy.setdefault(field, {})[lookup] = int(value)
            continue
        if lookup == "exact" and field in allowed:
            params[field] = value
            continue
        if key in allowed:
            params[key] = value
            continue
        raise ValueError(f"the changelist filter {key!r} has no equivalent in the {dataset_name} dataset")
    for field, parts in hierarchy.items():
        start, end = _hierarchy_range(parts)  # end is the start of the next period: exclusive
        params[f"{date_fields[field]}_after"] = start.isoformat()
        params[f"{date_fields[field]}_before"] = (end - TICK).isoformat()
    return params


# The dataset's range filters are inclusive at both ends (`>=` after, `<=` before); the
# admin's are `__gte` / `__lt` (and `__gt` / `__lte`). One microsecond, the resolution of
# the stored times, turns a strict bound into an inclusive one.
TICK = timedelta(microseconds=1)


def _as_iso(value: str, *, lookup: str) -> str:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value  # the FilterSet names the bad value
    if len(value) <= 10 and lookup == "lte":  # a bare date as an inclusive upper bound: that whole day
        parsed = datetime.combine(parsed.date() + timedelta(days=1), time.min) - TICK
    elif lookup == "lt":
        parsed -= TICK
    elif lookup == "gt":
        parsed += TICK
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed.isoformat()


def _hierarchy_range(parts: dict[str, int]) -> tuple[datetime, datetime]:
    year, month, day = parts.get("year"), parts.get("month"), parts.get("day")
    if year is None:
        raise ValueError("a date hierarchy filter without a year cannot be exported")
    if month is None:
        start, end = date(year, 1, 1), date(year + 1, 1, 1)
    elif day is None:
        start = date(year, month, 1)
        end = date(year + (month == 12), month % 12 + 1, 1)
    else:
        start = date(year, month, day)
        end = start + timedelta(days=1)
    aware = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=aware),
        datetime.combine(end, time.min, tzinfo=aware),
    )


class ExportActionForm(ActionForm):
    """The changelist's action bar with a format picker for the export action (other actions ignore it)."""

    export_format = forms.ChoiceField(label="Export as", required=False, initial="csv")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from exports.formats import FORMATS

        super().__init__(*args, **kwargs)
        self.fields["export_format"].choices = [(name, name.upper()) for name in FORMATS]


def export_rows_action(
    dataset_name: str,
    *,
    format: str | None = None,
    lookups: Mapping[str, str] | None = None,
    date_fields: Mapping[str, str] | None = None,
    description: str | None = None,
) -> Callable[..., None]:
    """Build the "Export these rows" admin action for one dataset.

    Without a fixed `format`, the format is the one picked in ExportActionForm (CSV when none is).
    """

    @admin.action(
        description=description or f"Export the rows matching the current filters ({format or 'pick a format'})"
    )
    def export_rows(modeladmin: admin.ModelAdmin, request: Any, queryset: Any) -> None:
        from exports import services

        # Checked here rather than with `permissions=[...]`, so any ModelAdmin can list the action as is.
        if not has_export_permission(request):
            modeladmin.message_user(request, "Nothing exported: you may not start exports.", messages.ERROR)
            return
        try:
            params = changelist_filters_to_params(
                request.GET, dataset_name=dataset_name, lookups=lookups, date_fields=date_fields
            )
            job, created = services.export_job_create(
                job_type=dataset_name,
                format=format or request.POST.get("export_format") or "csv",
                filter_params=params,
                user=request.user,
            )
        except ValueError as exc:
            modeladmin.message_user(request, f"Nothing exported: {exc}.", messages.ERROR)
            return
        except ExportError as exc:
            details = "; ".join(f"{key}: {' '.join(map(str, msgs))}" for key, msgs in exc.fields.items())
            modeladmin.message_user(request, f"Nothing exported: {exc.detail} {details}", messages.ERROR)
            return
        link = format_html('<a href="/admin/exports/exportjob/{}/change/">export #{}</a>', job.pk, job.pk)
        verb = "Started" if created else "An identical export is already under way:"
        modeladmin.message_user(
            request,
            format_html("{} {} of {} ({}) with filters {}.", verb, link, dataset_name, job.format, params or "none"),
            messages.SUCCESS,
        )

    export_rows.__name__ = f"export_{dataset_name.replace('.', '_')}_{format or 'rows'}"
    return export_rows


def has_export_permission(request: Any) -> bool:
    """Who may use the action: anyone allowed to add export jobs."""
    return request.user.has_perm("exports.add_exportjob")
