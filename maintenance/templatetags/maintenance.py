"""`{% maintenance_banner %}`: the admin's notice while the mode is not normal."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

from maintenance.selectors import maintenance_snapshot

register = template.Library()


@register.inclusion_tag("maintenance/banner.html")
def maintenance_banner() -> dict:
    try:
        screen_url = reverse("admin:maintenance_maintenancestate_changelist")
    except NoReverseMatch:
        screen_url = None
    return {"state": maintenance_snapshot(), "screen_url": screen_url}
