"""Admin: policies with the rows due now, preview and purge actions, and the read-only purge history."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.utils import timezone

from opsconsole.admin_lookups import SafeModelAdmin
from retention import services
from retention.exceptions import RetentionError
from retention.models import DataRetentionPolicy, PurgeRun, PurgeTrigger
from retention.registry import registry
from retention.selectors import category_rows_due, purge_skip_reason


def _category_choices() -> list[tuple[str, str]]:
    return [(category.name, f"{category.name} — {category.description}") for category in registry.all()]


class PolicyForm(forms.ModelForm):
    category = forms.ChoiceField(choices=_category_choices, help_text="A registered retention category.")

    class Meta:
        model = DataRetentionPolicy
        fields = ["category", "days_to_keep", "enabled", "legal_hold", "description"]


@admin.register(DataRetentionPolicy)
class DataRetentionPolicyAdmin(SafeModelAdmin):
    form = PolicyForm
    list_display = [
        "category",
        "days_to_keep",
        "enabled",
        "legal_hold",
        "rows_due_now",
        "last_purged_at",
        "updated_at",
    ]
    list_filter = ["enabled", "legal_hold"]
    search_fields = ["category", "description"]
    date_hierarchy = "updated_at"
    readonly_fields = ["rows_due_now", "last_purged_at", "created_at", "updated_at"]
    actions = ["preview_dry_run", "purge_now"]

    def get_readonly_fields(self, request, obj=None):
        # The category is the policy's identity: a renamed policy would be another policy.
        fields = list(super().get_readonly_fields(request, obj))
        return ["category", *fields] if obj else fields

    @admin.display(description="rows due now")
    def rows_due_now(self, policy: DataRetentionPolicy) -> str:
        if policy.pk is None or policy.category not in registry:
            return "-"
        due = category_rows_due(category=registry.get(policy.category), days_to_keep=policy.days_to_keep)
        return "database unreachable" if due is None else f"{due:,}"

    def save_model(self, request, obj: DataRetentionPolicy, form, change: bool) -> None:
        policy, _created = services.policy_upsert(
            category=obj.category,
            days_to_keep=obj.days_to_keep,
            enabled=obj.enabled,
            legal_hold=obj.legal_hold,
            description=obj.description or "",
        )
        obj.pk = policy.pk
        obj.refresh_from_db()

    def has_purge_permission(self, request) -> bool:
        """Both actions record purge runs, as POST /system/retention/purge does: the same permission."""
        return request.user.has_perm("retention.add_purgerun")

    @admin.action(description="Preview purge (dry run): count the rows due, delete nothing", permissions=["purge"])
    def preview_dry_run(self, request, queryset: QuerySet[DataRetentionPolicy]) -> None:
        categories = list(queryset.values_list("category", flat=True))
        try:
            result = services.purge_preview(categories=categories, trigger=PurgeTrigger.ADMIN, actor=request.user)
        except RetentionError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return
        for run in result.runs:
            self.message_user(
                request,
                f"Dry run: {run.category} has {run.matched:,} rows due "
                f"(dated before {run.cutoff:%Y-%m-%d %H:%M:%S} UTC).",
                messages.INFO,
            )
        for skipped in result.skipped:
            self.message_user(request, f"Not purged: {skipped.category} ({skipped.reason}).", messages.WARNING)

    @admin.action(description="Purge now (on a worker)…", permissions=["purge"])
    def purge_now(self, request, queryset: QuerySet[DataRetentionPolicy]):
        if request.POST.get("confirm") != "yes":
            rows = []
            for policy in queryset:
                category = registry.get(policy.category) if policy.category in registry else None
                rows.append(
                    {
                        "policy": policy,
                        "cutoff": category.cutoff(policy.days_to_keep, now=timezone.now()) if category else None,
                        "rows_due": category_rows_due(category=category, days_to_keep=policy.days_to_keep)
                        if category
                        else 0,
                        "skip_reason": purge_skip_reason(category=policy.category, policy=policy),
                    }
                )
            context = {
                **self.admin_site.each_context(request),
                "title": "Purge now?",
                "opts": self.model._meta,
                "rows": rows,
                "queryset": queryset,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/retention/purge_confirmation.html", context)

        categories = list(queryset.values_list("category", flat=True))
        try:
            result = services.purge_submit(categories=categories, trigger=PurgeTrigger.ADMIN, actor=request.user)
            run_ids = [run.pk for run in result.runs]
        except RetentionError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return None
        if run_ids:
            self.message_user(
                request,
                f"Purge queued for {', '.join(run.category for run in result.runs)} "
                f"(runs {', '.join(f'#{pk}' for pk in run_ids)}); see Purge runs for the outcome.",
                messages.SUCCESS,
            )
        for skipped in result.skipped:
            self.message_user(request, f"Not purged: {skipped.category} ({skipped.reason}).", messages.WARNING)
        return None


@admin.register(PurgeRun)
class PurgeRunAdmin(SafeModelAdmin):
    """The purge history: an audit trail, so nobody edits or deletes it here."""

    list_display = [
        "id",
        "category",
        "trigger",
        "dry_run",
        "status",
        "matched",
        "deleted",
        "cutoff",
        "started_at",
        "finished_at",
        "actor_name",
    ]
    list_filter = ["status", "trigger", "dry_run", "category"]
    search_fields = ["category", "actor_name", "error"]
    date_hierarchy = "started_at"
    list_select_related = ["actor"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
