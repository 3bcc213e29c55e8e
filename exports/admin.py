"""Export jobs in the admin: the list with progress and downloads, a form to start one, cancel."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from exports import services
from exports.admin_actions import ExportActionForm, export_rows_action
from exports.admin_filters_widget import DatasetFiltersField
from exports.admin_progress import PROGRESS_JS, JobProgressMixin
from exports.exceptions import ExportError
from exports.formats import FORMATS
from exports.models import SNAPSHOT, ExportJob, JobStatus
from exports.registry import dataset_names
from opsconsole.admin_lookups import SafeModelAdmin
from opsconsole.admin_object_actions import ObjectActionsMixin, object_action


class ExportJobStartForm(forms.ModelForm):
    """Start an export: a dataset (or a snapshot of several), a format and filters as JSON."""

    job_type = forms.ChoiceField(
        label="Dataset", help_text="What to export; 'snapshot' writes several datasets into one zip."
    )
    format = forms.ChoiceField(choices=[(name, name) for name in FORMATS], initial="csv")
    datasets = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For a snapshot only: the datasets it holds, all read in one transaction.",
    )
    filter_params = DatasetFiltersField(
        label="Filters",
        help_text="Only the rows matching these; empty: every row. For a snapshot, per dataset ticked.",
    )

    class Meta:
        model = ExportJob
        fields = ["job_type", "format", "datasets", "filter_params", "note"]

    #: set by ExportJobAdmin.get_form: whose permissions the datasets are checked against
    user = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        names = dataset_names()
        self.fields["job_type"].choices = [(name, name) for name in names] + [(SNAPSHOT, "snapshot (several)")]
        self.fields["datasets"].choices = [(name, name) for name in names]
        self.fields["note"].help_text = "Why or for whom (optional). The job records you as its requester."

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            services.export_request_validate(
                job_type=cleaned.get("job_type"),
                format=cleaned.get("format"),
                filter_params=cleaned.get("filter_params"),
                datasets=cleaned.get("datasets") or [],
            )
            services.export_datasets_check_permission(
                user=self.user, job_type=cleaned.get("job_type"), datasets=cleaned.get("datasets") or []
            )
        except ExportError as exc:
            for key, messages_ in exc.fields.items():
                field = key.split(".", 1)[0] if key.split(".", 1)[0] in self.fields else None
                self.add_error(field, [f"{key}: {m}" if field and key != field else str(m) for m in messages_])
            if not exc.fields:
                raise ValidationError(exc.detail) from exc
        return cleaned


@admin.register(ExportJob)
class ExportJobAdmin(ObjectActionsMixin, JobProgressMixin, SafeModelAdmin):
    change_actions = ["cancel_this", "download_file", "run_again"]

    class Media:
        # A Media of its own replaces the inherited one: keep the buttons' stylesheet.
        css = {"all": [*ObjectActionsMixin.Media.css["all"], "exports/start_form.css"]}
        js = [PROGRESS_JS, "exports/start_form.js"]

    list_display = [
        "id",
        "job_type",
        "format",
        "status_live",
        "progress_bar",
        "size",
        "download",
        "requested_by",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "format", "job_type"]
    search_fields = ["job_type", "requested_by", "note", "sha256", "error_message"]
    date_hierarchy = "created_at"
    ordering = ["-id"]
    action_form = ExportActionForm
    actions = [
        "cancel_jobs",
        export_rows_action(
            "exports.jobs",
            description="Export the jobs matching the current filters",
            lookups={"status__exact": "status", "format__exact": "format", "job_type__exact": "job_type"},
            date_fields={"created_at": "created"},
        ),
    ]
    readonly_fields = [
        "status_live",
        "progress_bar",
        "rows_written",
        "total_rows",
        "size",
        "download",
        "sha256",
        "file",
        "error_message",
        "requested_by_user",
        "created_at",
        "started_at",
        "completed_at",
        "expires_at",
        "attempts",
        "heartbeat_at",
        "cancel_requested",
    ]

    def has_change_permission(self, request, obj=None):
        # A job's page is a record (no Save buttons); Cancel and the list actions ask without obj.
        return obj is None and super().has_change_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ExportJobStartForm
            kwargs["fields"] = ExportJobStartForm.Meta.fields
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user  # a class made for this request by modelform_factory
        return form

    def get_fields(self, request, obj=None):
        if obj is None:
            return ExportJobStartForm.Meta.fields
        datasets = ["datasets"] if obj.job_type == SNAPSHOT else []  # a snapshot's only
        return ["job_type", "format", *datasets, "filter_params", "requested_by", "note", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # A job is an audit record: nothing about it is edited by hand.
        return ["job_type", "format", "datasets", "filter_params", "requested_by", "note", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            return
        job, created = services.export_job_create(
            job_type=form.cleaned_data["job_type"],
            format=form.cleaned_data["format"],
            filter_params=form.cleaned_data["filter_params"],
            datasets=form.cleaned_data.get("datasets") or [],
            note=form.cleaned_data.get("note") or "",
            user=request.user,
        )
        obj.pk = job.pk
        obj.refresh_from_db()
        if not created:
            self.message_user(request, f"An identical export is already {job.status}: job #{job.pk}.", messages.INFO)

    def delete_model(self, request, obj):
        services.export_job_delete(job=obj)

    def delete_queryset(self, request, queryset):
        for job in queryset:
            services.export_job_delete(job=job)

    @admin.display(description="size", ordering="file_size")
    def size(self, job: ExportJob) -> str:
        return filesizeformat(job.file_size) if job.file_size is not None else "—"

    @admin.action(description="Cancel the selected jobs (pending or running)", permissions=["change"])
    def cancel_jobs(self, request, queryset):
        cancelled, skipped = 0, []
        for job in queryset:
            try:
                services.export_job_cancel(job=job)
                cancelled += 1
            except ExportError:
                skipped.append(f"#{job.pk} ({job.status})")
        if cancelled:
            self.message_user(request, f"Cancelled {cancelled} job(s).", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"Not cancellable: {', '.join(skipped)}.", messages.WARNING)

    # --- the buttons on a job's page ---------------------------------------------------
    @object_action(
        label="Cancel",
        description="Stop this job; a running worker stops at its next progress check",
        available=lambda job: job.status in JobStatus.active(),
    )
    def cancel_this(self, request, job: ExportJob) -> None:
        services.export_job_cancel(job=job)
        self.message_user(request, f"Export #{job.pk} cancelled.", messages.SUCCESS)

    @object_action(
        label="Download",
        description="The export file",
        permission="view",
        method="GET",
        available=lambda job: job.status == JobStatus.COMPLETED and bool(job.file),
    )
    def download_file(self, request, job: ExportJob) -> HttpResponseRedirect:
        # The API's download endpoint checks the datasets' permissions and expiry: one door for files.
        return HttpResponseRedirect(job.download_path)

    @object_action(
        label="Run again",
        description="Start a new job with the same dataset, format and filters",
        permission="add",
    )
    def run_again(self, request, job: ExportJob) -> HttpResponseRedirect:
        new_job, created = services.export_job_create(
            job_type=job.job_type,
            format=job.format,
            filter_params=job.filter_params,
            datasets=job.datasets,
            note=job.note,
            user=request.user,
        )
        verb = "Started" if created else "An identical export is already under way:"
        self.message_user(request, f"{verb} export #{new_job.pk}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:exports_exportjob_change", args=[new_job.pk]))
