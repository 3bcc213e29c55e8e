"""Admin: policies with the rows due now, preview and purge actions, and the read-only purge history."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from exports.admin_actions import ExportActionForm, export_rows_action
from opsconsole.admin_display import flag_column
from opsconsole.admin_lookups import SafeModelAdmin
from opsconsole.admin_object_actions import ObjectActionsMixin, object_action
from retention import services
from retention.exceptions import RetentionError
from retention.models import DataRetentionPolicy, PurgeRun, PurgeTrigger
from retention.registry import registry
from retention.selectors import category_rows_due, purge_skip_reason


def _category_choices() -> list[tuple[str, str]]:
    return [(category.name, f"{category.name} — {category.description}") for category in registry.all()]


class CategorySelect(forms.Select):
    """The category menu, fitted to the form's width, carrying each category's default period for
    retention/static/retention/policy_form.js (which fills "days to keep" in when a category is picked)."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs={"class": "ops-fit", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        defaults = {category.name: category.default_days_to_keep for category in registry.all()}
        context["widget"]["attrs"]["data-default-days"] = json.dumps(defaults)
        return context


class PolicyForm(forms.ModelForm):
    category = forms.ChoiceField(
        choices=_category_choices,
        widget=CategorySelect,
        help_text="A registered retention category. Picking one fills in its default period.",
    )

    class Meta:
        model = DataRetentionPolicy
        fields = ["category", "days_to_keep", "enabled", "legal_hold", "description"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and not self.is_bound:
            # The add page opens on the first category: its default period, not the model's.
            category = self.initial.get("category") or next(iter(registry.all()), None)
            category = registry.get(category) if isinstance(category, str) and category in registry else category
            if category is not None:
                self.initial.setdefault("category", category.name)
                self.initial["days_to_keep"] = category.default_days_to_keep


@admin.register(DataRetentionPolicy)
class DataRetentionPolicyAdmin(ObjectActionsMixin, SafeModelAdmin):
    form = PolicyForm
    change_actions = ["preview_this", "purge_this"]
    list_display = [
        "category",
        "days_to_keep",
        "enabled",
        "legal_hold_flag",
        "rows_due_now",
        "last_purged_at",
        "updated_at",
    ]
    list_filter = ["enabled", "legal_hold"]
    search_fields = ["category", "description"]
    date_hierarchy = "updated_at"
    readonly_fields = ["rows_due_now", "last_purged_at", "created_at", "updated_at"]
    legal_hold_flag = flag_column("legal_hold", "legal hold", when_set="on hold")

    class Media:
        css = ObjectActionsMixin.Media.css  # a Media of its own replaces the inherited one
        js = ["retention/policy_form.js"]

    action_form = ExportActionForm
    actions = ["preview_dry_run", "purge_now", export_rows_action("retention.policies")]

    def get_fields(self, request, obj=None):
        if obj is None:  # nothing to show yet about a policy being added: no rows of dashes
            return PolicyForm.Meta.fields
        return super().get_fields(request, obj)

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
            return self._purge_confirmation(request, queryset)
        self._purge_submit(request, queryset)
        return None

    # --- the buttons on a policy's page -------------------------------------------------
    @object_action(label="Preview purge", description="Count the rows due, delete nothing", permission="purge")
    def preview_this(self, request, policy: DataRetentionPolicy) -> None:
        self.preview_dry_run(request, self.model.objects.filter(pk=policy.pk))

    @object_action(
        label="Purge now…", description="Delete the rows due, on a worker, after a confirmation", permission="purge"
    )
    def purge_this(self, request, policy: DataRetentionPolicy):
        queryset = self.model.objects.filter(pk=policy.pk)
        if request.POST.get("confirm") != "yes":
            action_url = reverse(
                "admin:retention_dataretentionpolicy_actions", kwargs={"pk": policy.pk, "tool": "purge_this"}
            )
            back_url = reverse("admin:retention_dataretentionpolicy_change", args=[policy.pk])
            return self._purge_confirmation(request, queryset, action_url=action_url, back_url=back_url)
        self._purge_submit(request, queryset)
        return None

    # --- shared by the list action and the button ---------------------------------------
    def _purge_confirmation(self, request, queryset, *, action_url: str = "", back_url: str = ""):
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
            "action_url": action_url,  # the button's own URL; empty: the changelist's action form
            "back_url": back_url or reverse("admin:retention_dataretentionpolicy_changelist"),
        }
        return TemplateResponse(request, "admin/retention/purge_confirmation.html", context)

    def _purge_submit(self, request, queryset) -> None:
        categories = list(queryset.values_list("category", flat=True))
        try:
            result = services.purge_submit(categories=categories, trigger=PurgeTrigger.ADMIN, actor=request.user)
        except RetentionError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return
        if result.runs:
            self.message_user(
                request,
                f"Purge queued for {', '.join(run.category for run in result.runs)} "
                f"(runs {', '.join(f'#{run.pk}' for run in result.runs)}); see Purge runs for the outcome.",
                messages.SUCCESS,
            )
        for skipped in result.skipped:
            self.message_user(request, f"Not purged: {skipped.category} ({skipped.reason}).", messages.WARNING)


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
    action_form = ExportActionForm
    actions = [export_rows_action("retention.purge_runs", date_fields={"started_at": "started"})]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
