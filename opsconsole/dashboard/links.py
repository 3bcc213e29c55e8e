"""Links from the dashboard into the admin, for the apps' panels (<app>/dashboard.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse


def admin_changelist_url(model: type, **filters: Any) -> str | None:
    """The admin changelist of `model` filtered by `filters`, or None while it is not registered."""
    try:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(filters)}" if filters else url


def admin_change_url_template(model: type) -> str | None:
    """The admin change URL of `model` with `0` standing for the primary key, or None.

    Reversed once per panel rather than once per row: a list of rows fills it in with change_url().
    """
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[0])
    except NoReverseMatch:
        return None


def change_url(template: str | None, pk: int) -> str | None:
    """The change URL of the row `pk` from admin_change_url_template(), or None without one."""
    return template.replace("/0/", f"/{pk}/", 1) if template else None
