"""Admin: the maintenance screen (mode, change form, history) and the read-only event log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from exports.admin_actions import ExportActionForm, export_rows_action
from maintenance.exceptions import MaintenanceError
from maintenance.models import MaintenanceEvent, MaintenanceState, Mode
from maintenance.selectors import maintenance_event_list, maintenance_state_get
from maintenance.services import MAX_RETRY_AFTER, maintenance_set_mode
from opsconsole.admin_display import ValueChoicesFilter, value_column
from opsconsole.admin_lookups import SafeModelAdmin

HISTORY_ROWS = 50


class MaintenanceChangeForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Required. Why you change the mode; recorded in the history.",
    )
    message = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Shown to users on the maintenance page and in 503 answers.",
    )
    until = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Optional: return to normal by itself at this time (server time zone).",
    )
    retry_after = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_RETRY_AFTER,
        help_text="Seconds clients are told to wait (Retry-After). Empty keeps the current value.",
    )


@admin.register(MaintenanceState)
class MaintenanceStateAdmin(SafeModelAdmin):
    """The changelist is replaced by a screen: the mode in force, one button per mode, history."""

    screen_template = "admin/maintenance/maintenancestate/screen.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        return HttpResponseRedirect(reverse("admin:maintenance_maintenancestate_changelist"))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        form = MaintenanceChangeForm()
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            form = MaintenanceChangeForm(request.POST)
            if form.is_valid():
                try:
                    state = maintenance_set_mode(
                        mode=request.POST.get("mode", ""),
                        reason=form.cleaned_data["reason"],
                        message=form.cleaned_data["message"],
                        until=form.cleaned_data["until"],
                        retry_after=form.cleaned_data["retry_after"],
                        actor=request.user,
                        source="admin",
                    )
                except MaintenanceError as exc:
                    self.message_user(request, _error_text(exc), messages.ERROR)
                else:
                    self.message_user(request, f"Maintenance mode is now {state.mode}.", messages.SUCCESS)
                    return HttpResponseRedirect(request.path)
            else:
                self.message_user(request, _form_error_text(form), messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "title": "Maintenance mode",
            "subtitle": None,
            "opts": self.model._meta,
            "state": maintenance_state_get(),
            "form": form,
            "modes": Mode.choices,
            "can_change": self.has_change_permission(request),
            "events": maintenance_event_list()[:HISTORY_ROWS],
            "history_url": reverse("admin:maintenance_maintenanceevent_changelist"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.screen_template, context)


def _error_text(exc: MaintenanceError) -> str:
    if exc.fields:
        return "Not changed: " + "; ".join(f"{field}: {' '.join(map(str, e))}" for field, e in exc.fields.items())
    return f"Not changed: {exc.detail}"


def _form_error_text(form: forms.Form) -> str:
    return "Not changed: " + "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


@admin.register(MaintenanceEvent)
class MaintenanceEventAdmin(SafeModelAdmin):
    """The audit log of mode changes: read-only, written only by the service."""

    # Modes by their API value (read_only), as everywhere else in the admin, the API and the command.
    list_display = ("at", "from_value", "to_value", "reason", "actor_name", "source", "until", "retry_after")
    list_filter = (
        ("to_mode", ValueChoicesFilter),
        ("from_mode", ValueChoicesFilter),
        "source",
        ("at", admin.DateFieldListFilter),
    )
    fields = (
        "at",
        "from_value",
        "to_value",
        "reason",
        "message",
        "until",
        "retry_after",
        "actor",
        "actor_name",
        "source",
    )
    readonly_fields = fields
    from_value = value_column("from_mode", "from mode")
    to_value = value_column("to_mode", "to mode")
    search_fields = ("reason", "message", "actor_name")
    date_hierarchy = "at"
    ordering = ("-id",)
    list_per_page = 100
    show_full_result_count = False
    action_form = ExportActionForm
    actions = [export_rows_action("maintenance.events", date_fields={"at": "at"})]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
