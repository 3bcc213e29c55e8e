"""Admin: registered source tables, with a form that offers the tables and columns introspection finds."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from opsconsole.admin_lookups import SafeModelAdmin
from opsconsole.errors import OpsConsoleError
from sources import selectors, services
from sources.api import OUTBOX_RETRY, OUTBOX_VIEW
from sources.connections import source_list, source_reachability
from sources.exceptions import SourcesError
from sources.introspection import describe_table, table_names
from sources.models import SourceTable


def _table_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every table of every reachable source, grouped by source (`shop|public.orders`)."""
    choices = []
    for source in source_list():
        try:
            names = table_names(source)
        except SourcesError:
            continue
        choices.append((source.name, [(f"{source.name}|{name}", name) for name in names]))
    return choices


class SourceTableForm(forms.ModelForm):
    source_table = forms.ChoiceField(label="Table", choices=_table_choices, required=False)
    column_list = forms.CharField(
        label="Columns",
        required=False,
        help_text="Comma-separated; empty for every column. The table's columns are listed below once it is saved.",
    )

    class Meta:
        model = SourceTable
        fields = ["timestamp_column", "purge_condition", "description"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # the table is the registration's identity (not shown when changing)
            self.initial["column_list"] = ", ".join(self.instance.columns)
            self._offer_the_tables_columns()

    def _offer_the_tables_columns(self) -> None:
        """Once the table is known, its columns are ticked, not typed (typed if the source is down)."""
        source = next((s for s in source_list() if s.name == self.instance.source), None)
        try:
            info = describe_table(source, self.instance.table) if source is not None else None
        except SourcesError:
            info = None
        if info is None:
            return
        self.fields["column_list"] = forms.MultipleChoiceField(
            label="Columns",
            required=False,
            choices=[(column.name, f"{column.name} ({column.db_type})") for column in info.columns],
            widget=forms.CheckboxSelectMultiple,
            help_text="The columns exports carry; none ticked: every column.",
        )
        self.initial["column_list"] = list(self.instance.columns)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk:
            source, table = self.instance.source, self.instance.table
        else:
            source, _, table = (cleaned.get("source_table") or "").partition("|")
        picked = cleaned.get("column_list") or ""
        names = picked if isinstance(picked, list) else [name.strip() for name in picked.split(",") if name.strip()]
        try:
            checked = services.source_table_validate(
                source=source,
                table=table,
                timestamp_column=cleaned.get("timestamp_column"),
                columns=names or None,
                purge_condition=cleaned.get("purge_condition"),
            )
        except SourcesError as exc:
            for field, messages in exc.fields.items():
                target = {"table": "source_table", "columns": "column_list", "source": "source_table"}.get(field, field)
                self.add_error(target if target in self.fields else None, messages)
            return cleaned
        cleaned["source"], cleaned["table"], cleaned["columns"] = source, checked.table, checked.columns
        return cleaned


@admin.register(SourceTable)
class SourceTableAdmin(SafeModelAdmin):
    form = SourceTableForm
    list_display = ["name", "source", "table", "timestamp_column", "purge_condition", "updated_at"]
    change_list_template = "admin/sources/sourcetable/change_list.html"
    list_filter = ["source"]
    search_fields = ["source", "table", "description"]
    readonly_fields = ["source", "table", "table_columns", "created_at", "updated_at"]

    @admin.display(description="columns of the table (introspection)")
    def table_columns(self, obj: SourceTable) -> str:
        if obj.pk is None:
            return "-"
        try:
            info = describe_table(next(s for s in source_list() if s.name == obj.source), obj.table)
        except (StopIteration, SourcesError):
            return "source not reachable"
        if info is None:
            return "table not found"
        return ", ".join(f"{c.name} ({c.db_type})" for c in info.columns)

    def get_urls(self):
        urls = [
            path(
                "outbox/",
                self.admin_site.admin_view(self.outbox_view),
                name="sources_sourcetable_outbox",
            )
        ]
        return urls + super().get_urls()

    def outbox_view(self, request):
        """Each source's outbox relay backlog and the rows kept with an error; POST retries them."""
        may_view = request.user.has_perms(OUTBOX_VIEW)
        if not may_view:
            raise PermissionDenied
        if request.method == "POST":
            if not request.user.has_perms(OUTBOX_RETRY):
                raise PermissionDenied
            try:
                retried = services.source_outbox_retry(source=request.POST.get("source"))
                self.message_user(request, f"{retried} row(s) will be relayed again.", messages.SUCCESS)
            except OpsConsoleError as exc:
                self.message_user(request, exc.detail, messages.ERROR)
            return redirect("admin:sources_sourcetable_outbox")
        backlogs = []
        for source in source_list():
            try:
                backlog = selectors.source_outbox_backlog(source=source)
            except SourcesError as exc:
                backlog = {"installed": False, "pending": 0, "errors": 0, "results": [], "unreachable": exc.detail}
            reachable, error = source_reachability(source)
            backlogs.append({"source": source, "reachable": reachable, "error": error, **backlog})
        context = {
            **self.admin_site.each_context(request),
            "title": "Sources and their outbox relay",
            "opts": self.model._meta,
            "backlogs": backlogs,
            "may_retry": request.user.has_perms(OUTBOX_RETRY),
        }
        return TemplateResponse(request, "admin/sources/outbox.html", context)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return [field for field in fields if field != "source_table"] if obj else fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ["created_at", "updated_at"]

    def save_model(self, request, obj: SourceTable, form: SourceTableForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            saved = services.source_table_update(
                source_table=SourceTable.objects.get(pk=obj.pk),
                timestamp_column=data["timestamp_column"],
                columns=data["columns"],
                purge_condition=data.get("purge_condition"),
                description=data.get("description") or "",
            )
        else:
            saved = services.source_table_register(
                source=data["source"],
                table=data["table"],
                timestamp_column=data["timestamp_column"],
                columns=data["columns"],
                purge_condition=data.get("purge_condition"),
                description=data.get("description") or "",
            )
        obj.pk = saved.pk
        obj.refresh_from_db()
