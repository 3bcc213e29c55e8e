"""No admin changelist is an oracle for a value the admin never shows.

The walk covers every registered ModelAdmin (the project's and the third-party ones) as
a view-only staff member, and tries query-string lookups on every field of every model:
whatever its own filters do not offer is refused, and for a secret field the answer for
a matching value is the answer for a non-matching one.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.db import models
from django.test import RequestFactory
from django.urls import reverse
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apitokens.models import ApiToken
from apitokens.services import token_create
from exports.models import ExportJob
from notifications.admin import NotificationChannelAdmin
from notifications.models import NotificationAttempt, NotificationChannel, NotificationOutbox
from opsconsole.admin_lookups import SafeLookupsMixin
from retention.models import DataRetentionPolicy, PurgeRun

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
AUTH_HEADER = "Bearer tok-9f8e7d6c5b4a"
SLACK_URL = "https://hooks.slack.com/services/T0001/B0002/slackSECRETtoken"

# What this test holds secret, independently of what the admins declare: each admin's
# own `secret_fields` are added to it.
KNOWN_SECRETS: dict[type[models.Model], set[str]] = {
    NotificationChannel: {"secret", "target", "config"},
    User: {"password"},
    ApiToken: {"key_hash"},
}
NO_MATCH = "zq\u2603no-such-value"
REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def viewer(client, django_user_model):
    """A staff member who may view every model and change none."""
    user = django_user_model.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client.force_login(user)
    return client


@pytest.fixture
def rows(django_user_model):
    """At least one row, with a secret in it, for every model that has secrets (and a few more)."""
    owner = django_user_model.objects.create_superuser("owner", "owner@example.com", "pw-owner-secret-123")
    webhook = NotificationChannel.objects.create(
        name="hooks",
        channel_type="webhook",
        target="https://hooks.example.com/in",
        secret=WEBHOOK_SECRET,
        config={"headers": {"Authorization": AUTH_HEADER}},
    )
    NotificationChannel.objects.create(name="slack", channel_type="slack", target=SLACK_URL)
    NotificationChannel.objects.create(name="mail", channel_type="email", target="oncall@example.com")
    outbox = NotificationOutbox.objects.create(channel=webhook, body="disk full", payload={"host": "web-1"})
    NotificationAttempt.objects.create(outbox=outbox, number=1, started_at=outbox.created_at, outcome="sent")
    ExportJob.objects.create(job_type="notifications.outbox", filter_params={"status": "sent"})
    DataRetentionPolicy.objects.create(category="notifications.outbox", days_to_keep=30)
    PurgeRun.objects.create(category="notifications.outbox", trigger="admin", actor=owner)
    every = IntervalSchedule.objects.create(every=10, period="seconds")
    PeriodicTask.objects.create(name="tick", task="notifications.tasks.dispatch_due", interval=every, kwargs="{}")
    token_create(user=owner)
    Group.objects.create(name="oncall")
    return owner


def refusal_or_rows(response) -> tuple[str, Any]:
    """What a changelist answer tells the caller: refused, or how many rows matched."""
    if response.status_code == 400:
        return ("refused", None)
    if response.status_code == 302 and response["Location"].endswith("?e=1"):
        return ("refused", None)
    assert response.status_code == 200, response.status_code
    changelist = response.context.get("cl") if response.context else None
    if changelist is None:
        return ("screen without filters", None)  # e.g. the maintenance screen: it lists nothing
    return ("rows", changelist.result_count)


def offered_fields(model_admin: admin.ModelAdmin) -> set[str]:
    """First field of every path the admin's own filters and date hierarchy use."""
    names = {model_admin.date_hierarchy} if model_admin.date_hierarchy else set()
    for item in model_admin.list_filter:
        name = item[0] if isinstance(item, (list, tuple)) else item
        if isinstance(name, str):
            names.add(name.split("__")[0])
    return names


def secrets_of(model: type[models.Model]) -> set[str]:
    model_admin = admin.site._registry.get(model)
    return KNOWN_SECRETS.get(model, set()) | set(getattr(model_admin, "secret_fields", ()))


def sample(model: type[models.Model], field: models.Field) -> Any:
    row = model._default_manager.exclude(**{f"{field.attname}__isnull": True}).first()
    return getattr(row, field.attname) if row is not None else None


def key_paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every key path of a JSON object down to its leaves: (("headers", "Authorization"), "Bearer …")."""
    if not isinstance(value, dict):
        return [(prefix, value)] if prefix else []
    return [path for key, inner in value.items() for path in key_paths(inner, (*prefix, key))]


def probes(model: type[models.Model]) -> list[tuple[str, str, str, bool]]:
    """(lookup, matching value, non-matching value, secret?) for every field of the model."""
    found = []
    for field in model._meta.get_fields():
        if field.many_to_many or field.one_to_many or field.one_to_one and field.auto_created:
            related = field.related_model
            # A relation: probe the secrets of the model at the other end through it.
            for secret in sorted(secrets_of(related)):
                found.append((f"{field.name}__{secret}__startswith", "", NO_MATCH, True))
            continue
        if field.is_relation and field.related_model is not None:
            for secret in sorted(secrets_of(field.related_model)):
                value = sample(field.related_model, field.related_model._meta.get_field(secret))
                found.append((f"{field.name}__{secret}__startswith", str(value or "")[:8], NO_MATCH, True))
        secret = field.name in secrets_of(model)
        value = sample(model, field) if hasattr(field, "attname") else None
        text = str(value if value is not None else "")
        for lookup in ("regex", "startswith", "icontains"):
            match = "^" + re.escape(text[:8]) if lookup == "regex" else text[:8]
            found.append((f"{field.name}__{lookup}", match, NO_MATCH, secret))
        if isinstance(field, models.JSONField):
            for path, leaf in key_paths(value):
                found.append((f"{field.name}__{'__'.join(path)}__icontains", str(leaf)[:8], NO_MATCH, secret))
    return found


def test_every_registered_admin_uses_the_safe_lookups_mixin():
    unsafe = [model._meta.label for model, model_admin in REGISTRY if not isinstance(model_admin, SafeLookupsMixin)]
    assert unsafe == []


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=[model._meta.label for model, _ in REGISTRY])
def test_query_string_lookups_outside_the_admins_own_filters_are_refused(viewer, rows, model, model_admin):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    offered = offered_fields(model_admin)
    oracles, applied = [], []
    for lookup, match, no_match, secret in probes(model):
        matching = refusal_or_rows(viewer.get(url, {lookup: match}))
        not_matching = refusal_or_rows(viewer.get(url, {lookup: no_match}))
        if secret and matching != not_matching:
            oracles.append(f"{lookup}: {matching} for {match!r}, {not_matching} otherwise")
        if (secret or lookup.split("__")[0] not in offered) and matching[0] not in {
            "refused",
            "screen without filters",
        }:
            applied.append(lookup)
    assert oracles == []
    assert applied == []


def test_the_probes_reach_every_secret_of_the_known_models(rows):
    """The walk above is only as good as its probes: the secrets are there with real values."""
    lookups = {lookup: match for lookup, match, _, secret in probes(NotificationChannel) if secret}
    assert lookups["secret__startswith"] == WEBHOOK_SECRET[:8]
    assert lookups["config__headers__Authorization__icontains"] == AUTH_HEADER[:8]
    assert "password__regex" in {lookup for lookup, *_ in probes(User)}
    assert "channel__secret__startswith" in {lookup for lookup, *_ in probes(NotificationOutbox)}
    assert "api_tokens__key_hash__startswith" in {lookup for lookup, *_ in probes(User)}


def test_the_secret_lookups_from_the_review_are_refused_while_offered_filters_still_work(viewer, rows):
    url = reverse("admin:notifications_notificationchannel_changelist")
    for params in (
        {"secret__regex": "^whsec_Q"},
        {"config__headers__Authorization__icontains": "Bearer"},
        {"target__icontains": "slackSECRET"},
        {"channel_type__exact": "webhook", "secret__startswith": "whsec_"},
    ):
        assert refusal_or_rows(viewer.get(url, params)) == ("refused", None), params
    assert refusal_or_rows(viewer.get(url, {"channel_type__exact": "webhook"})) == ("rows", 1)
    outbox = reverse("admin:notifications_notificationoutbox_changelist")
    channel = NotificationChannel.objects.get(name="hooks")
    assert refusal_or_rows(viewer.get(outbox, {"channel__id__exact": channel.pk})) == ("rows", 1)
    assert refusal_or_rows(viewer.get(outbox, {"channel__secret__startswith": "whsec_"})) == ("refused", None)


def test_search_never_matches_a_secret_but_finds_targets_shown_in_clear(viewer, rows):
    url = reverse("admin:notifications_notificationchannel_changelist")
    for probe in (WEBHOOK_SECRET[:10], "slackSECRET", "Bearer tok", "hooks.slack.com"):
        assert refusal_or_rows(viewer.get(url, {"q": probe})) == ("rows", 0), probe
    assert refusal_or_rows(viewer.get(url, {"q": "oncall@example"})) == ("rows", 1)
    # The search stays inside the list filters.
    assert refusal_or_rows(viewer.get(url, {"q": "oncall@example", "channel_type__exact": "log"})) == ("rows", 0)


def test_search_on_every_admin_cannot_tell_a_secret_prefix_from_nonsense(viewer, rows):
    for model, _model_admin in REGISTRY:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for name in sorted(secrets_of(model)):
            value = str(sample(model, model._meta.get_field(name)) or "")
            if not value:
                continue
            found = refusal_or_rows(viewer.get(url, {"q": value[:12]}))
            assert found == refusal_or_rows(viewer.get(url, {"q": NO_MATCH})), f"{model._meta.label}.{name}"


class LeakyChannelAdmin(NotificationChannelAdmin):
    """What a careless change would look like: every way to expose the secrets at once."""

    list_display = ["name", "target", "masked_secret"]
    list_filter = ["target"]
    search_fields = ["name", "config"]

    @admin.display(ordering="secret")
    def masked_secret(self, channel):
        return "********"


def test_manage_py_check_reports_an_admin_that_filters_searches_or_sorts_on_a_secret():
    errors = LeakyChannelAdmin(NotificationChannel, admin.site).check()
    messages = sorted(error.msg for error in errors if error.id == "opsconsole.E001")
    assert messages == [
        "list_display names 'masked_secret', a secret field: the changelist would be an oracle for it.",
        "list_display names 'target', a secret field: the changelist would be an oracle for it.",
        "list_filter names 'target', a secret field: the changelist would be an oracle for it.",
        "search_fields names 'config', a secret field: the changelist would be an oracle for it.",
    ]


def test_registered_admins_pass_the_secret_check():
    errors = [error for _, model_admin in REGISTRY for error in model_admin.check() if error.id == "opsconsole.E001"]
    assert errors == []


def test_sorting_and_searching_skip_secret_columns_even_when_an_admin_lists_them(rows):
    leaky = LeakyChannelAdmin(NotificationChannel, admin.site)
    request = RequestFactory().get("/", {"o": "1.2"})
    request.user = rows
    changelist = leaky.get_changelist_instance(request)
    ordering = changelist.get_ordering(request, NotificationChannel.objects.all())
    assert not {str(term).lstrip("-") for term in ordering} & {"target", "secret"}
    assert list(leaky.get_search_fields(request)) == ["name"]
    assert "target" not in leaky.get_sortable_by(request)
    assert "masked_secret" not in leaky.get_sortable_by(request)


def test_the_dashboards_filtered_links_stay_within_the_allow_list(viewer, rows):
    from notifications.dashboard import outbox_depth
    from opsconsole.dashboard.links import admin_changelist_url
    from opsconsole.dashboard.registry import registry

    channel = NotificationChannel.objects.get(name="hooks")
    urls = [url for url in registry.links().values() if url and "?" in url]
    urls += [row["url"] for row in outbox_depth()]
    urls.append(admin_changelist_url(NotificationOutbox, channel__id__exact=channel.pk, status__exact="failed"))
    assert len(urls) >= 6
    for url in urls:
        assert refusal_or_rows(viewer.get(url))[0] == "rows", url
