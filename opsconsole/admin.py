"""The third-party admins, re-registered with the project's safety rules.

`opsconsole` comes after django.contrib.auth, rest_framework.authtoken and
django_celery_beat in INSTALLED_APPS, so their admin modules are loaded (and have
registered themselves) before this one replaces them:
- every one uses SafeLookupsMixin (no filtering, search or sorting outside the allow-list;
  the password hash of a user is a secret field like a channel's signing secret);
- django-celery-beat's list actions change or run schedules yet ask for no permission
  (enable, disable, toggle and "run", which starts the real task — a retention purge, say):
  here each needs the change permission on periodic tasks;
- django-axes' login-attempt lists follow the same allow-list;
- DRF's legacy token table is not shown at all: API tokens live hashed in `apitokens`;
- every one follows the maintenance mode like the project's own (ReadOnlyAwareMixin).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group, User
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from rest_framework.authtoken.models import TokenProxy

from opsconsole.admin_lookups import SafeLookupsMixin
from opsconsole.admin_readonly import ReadOnlyAwareMixin


def _requires_change(action: Callable[..., Any]) -> Callable[..., Any]:
    """The same action (name, description), offered and run only with the change permission."""

    @functools.wraps(action)
    def guarded(modeladmin: admin.ModelAdmin, request: Any, queryset: Any) -> Any:
        return action(modeladmin, request, queryset)

    guarded.allowed_permissions = ("change",)  # what @admin.action(permissions=["change"]) sets
    return guarded


class PeriodicTaskAdmin(ReadOnlyAwareMixin, SafeLookupsMixin, beat_admin.PeriodicTaskAdmin):
    enable_tasks = _requires_change(beat_admin.PeriodicTaskAdmin.enable_tasks)
    disable_tasks = _requires_change(beat_admin.PeriodicTaskAdmin.disable_tasks)
    toggle_tasks = _requires_change(beat_admin.PeriodicTaskAdmin.toggle_tasks)
    run_tasks = _requires_change(beat_admin.PeriodicTaskAdmin.run_tasks)


class ClockedScheduleAdmin(ReadOnlyAwareMixin, SafeLookupsMixin, beat_admin.ClockedScheduleAdmin):
    pass


class CrontabScheduleAdmin(ReadOnlyAwareMixin, SafeLookupsMixin, beat_admin.CrontabScheduleAdmin):
    pass


class SolarScheduleAdmin(ReadOnlyAwareMixin, SafeLookupsMixin, beat_admin.SolarScheduleAdmin):
    pass


class IntervalScheduleAdmin(ReadOnlyAwareMixin, SafeLookupsMixin, beat_admin.IntervalScheduleAdmin):
    pass


class UserAdmin(ReadOnlyAwareMixin, SafeLookupsMixin, auth_admin.UserAdmin):
    secret_fields = ("password",)


class GroupAdmin(ReadOnlyAwareMixin, SafeLookupsMixin, auth_admin.GroupAdmin):
    pass


class AccessAttemptAdmin(ReadOnlyAwareMixin, SafeLookupsMixin, axes_admin.AccessAttemptAdmin):
    pass


class AccessLogAdmin(ReadOnlyAwareMixin, SafeLookupsMixin, axes_admin.AccessLogAdmin):
    pass


class AccessFailureLogAdmin(ReadOnlyAwareMixin, SafeLookupsMixin, axes_admin.AccessFailureLogAdmin):
    pass


_REPLACEMENTS: dict[type, type[admin.ModelAdmin]] = {
    PeriodicTask: PeriodicTaskAdmin,
    ClockedSchedule: ClockedScheduleAdmin,
    CrontabSchedule: CrontabScheduleAdmin,
    SolarSchedule: SolarScheduleAdmin,
    IntervalSchedule: IntervalScheduleAdmin,
    User: UserAdmin,
    Group: GroupAdmin,
    # django-axes' login attempts (usernames, addresses, the request data of failed logins).
    AccessAttempt: AccessAttemptAdmin,
    AccessLog: AccessLogAdmin,
    AccessFailureLog: AccessFailureLogAdmin,
}

for _model, _model_admin in _REPLACEMENTS.items():
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
        admin.site.register(_model, _model_admin)
    elif _model._meta.app_label != "axes":  # axes registers its admins only with AXES_ENABLE_ADMIN
        admin.site.register(_model, _model_admin)

if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
