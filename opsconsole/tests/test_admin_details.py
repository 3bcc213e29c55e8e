"""The admin's small things: times to the second, filters, neutral flags, panels, forms, labels, API docs."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from opsconsole.tests.factories import AttemptFactory, ChannelFactory, OutboxFactory, PurgeRunFactory
from retention.dashboard import purge_started_by
from retention.registry import registry
from retention.tests.factories import PolicyFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 30, 8, 15, 42, tzinfo=UTC)


def test_attempt_times_show_seconds_in_the_list_the_page_and_the_notification(staff_client, settings):
    settings.TIME_ZONE = "UTC"
    attempt = AttemptFactory(started_at=AT)
    for url in (
        "/admin/notifications/notificationattempt/",
        reverse("admin:notifications_notificationattempt_change", args=[attempt.pk]),
        reverse("admin:notifications_notificationoutbox_change", args=[attempt.outbox_id]),
    ):
        assert "2026-11-30 08:15:42" in staff_client.get(url).content.decode(), url


def test_the_next_attempt_shows_seconds(staff_client, settings):
    settings.TIME_ZONE = "UTC"
    OutboxFactory(next_attempt_at=AT + timedelta(seconds=7))
    assert "2026-11-30 08:15:49" in staff_client.get("/admin/notifications/notificationoutbox/").content.decode()


def test_attempts_are_filtered_by_channel(staff_client):
    mine, other = ChannelFactory(), ChannelFactory()
    shown = AttemptFactory(outbox=OutboxFactory(channel=mine))
    hidden = AttemptFactory(outbox=OutboxFactory(channel=other))
    html = staff_client.get(f"/admin/notifications/notificationattempt/?outbox__channel__id__exact={mine.pk}")
    html = html.content.decode()
    assert f"/notificationattempt/{shown.pk}/change/" in html
    assert f"/notificationattempt/{hidden.pk}/change/" not in html
    assert mine.name in staff_client.get("/admin/notifications/notificationattempt/").content.decode()  # the filter


def test_not_paused_and_no_legal_hold_read_as_a_dash_not_a_red_cross(staff_client):
    ChannelFactory(paused=False)
    PolicyFactory(category="exports.jobs", legal_hold=False)
    channels = staff_client.get("/admin/notifications/notificationchannel/").content.decode()
    policies = staff_client.get("/admin/retention/dataretentionpolicy/").content.decode()
    assert '<td class="field-paused_flag">—</td>' in channels
    assert '<td class="field-legal_hold_flag">—</td>' in policies
    ChannelFactory(paused=True)
    PolicyFactory(category="admin.log", legal_hold=True)
    assert (
        '<td class="field-paused_flag">paused</td>'
        in staff_client.get("/admin/notifications/notificationchannel/").content.decode()
    )
    assert (
        '<td class="field-legal_hold_flag">on hold</td>'
        in staff_client.get("/admin/retention/dataretentionpolicy/").content.decode()
    )


@pytest.mark.parametrize(
    ("trigger", "actor_name", "shown"),
    [
        ("command", "command (root@vm)", "command (root@vm)"),
        ("admin", "ana", "admin, ana"),
        ("schedule", "", "schedule"),
        ("api", "api", "api"),
    ],
)
def test_the_purge_panel_names_the_trigger_and_actor_once(trigger, actor_name, shown):
    assert purge_started_by({"trigger": trigger, "actor_name": actor_name}) == shown


def test_the_purge_panel_shows_when_a_run_started_compactly(staff_client):
    PurgeRunFactory(trigger="command", actor_name="command (root@vm)")
    html = staff_client.get("/admin/").content.decode()
    assert "command, command" not in html and "command (root@vm)" in html
    assert '<td class="ops-nowrap"><time datetime=' in html


def test_the_channel_add_form_has_no_health_section(staff_client):
    add = staff_client.get(reverse("admin:notifications_notificationchannel_add")).content.decode()
    assert ">Health<" not in add and "field-has_secret" not in add
    channel = ChannelFactory()
    change = staff_client.get(reverse("admin:notifications_notificationchannel_change", args=[channel.pk]))
    assert ">Health<" in change.content.decode()


def test_the_policy_form_fills_in_the_categorys_default_period(staff_client):
    first = next(iter(registry.all()))
    response = staff_client.get(reverse("admin:retention_dataretentionpolicy_add"))
    form = response.context["adminform"].form
    assert form.initial["days_to_keep"] == first.default_days_to_keep
    html = response.content.decode()
    assert 'class="ops-fit"' in html and "data-default-days=" in html and "retention/policy_form.js" in html
    assert "field-rows_due_now" not in html and "field-created_at" not in html  # nothing to show yet


def test_the_mode_is_named_by_its_api_value(staff_client, switch_mode):
    switch_mode("read_only")
    dashboard = staff_client.get("/admin/").content.decode()
    assert 'data-mode="read_only" title="Read-only">read_only</span>' in dashboard
    assert "Maintenance mode <code>read_only</code>" in dashboard  # the banner
    response = staff_client.post(
        reverse("admin:maintenance_maintenancestate_changelist"), {"mode": "normal", "reason": "done"}, follow=True
    )
    assert "Maintenance mode is now normal." in response.content.decode()


def test_every_retention_endpoint_has_a_summary_in_the_api_docs(api):
    schema = api.get("/system/schema/", HTTP_ACCEPT="application/json").json()
    operations = [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        if path.startswith("/system/retention")
        for method, operation in methods.items()
    ]
    assert len(operations) >= 6
    assert [(path, method) for path, method, operation in operations if not operation.get("summary")] == []


def test_the_maintenance_screen_and_history_name_modes_by_their_api_value(staff_client, switch_mode):
    switch_mode("read_only")
    screen = staff_client.get(reverse("admin:maintenance_maintenancestate_changelist")).content.decode()
    assert "Switch to normal" in screen and "Update (read_only)" in screen and "Read-only" not in screen
    history = staff_client.get("/admin/maintenance/maintenanceevent/").content.decode()
    assert '<td class="field-to_value">read_only</td>' in history
    assert "Read-only" not in history  # neither in the rows nor in the filters
    from maintenance.models import MaintenanceEvent

    event = MaintenanceEvent.objects.latest("id")
    page = staff_client.get(f"/admin/maintenance/maintenanceevent/{event.pk}/change/").content.decode()
    assert "read_only" in page and "Read-only" not in page
    filtered = staff_client.get("/admin/maintenance/maintenanceevent/?to_mode__exact=read_only")
    assert filtered.status_code == 200 and '<td class="field-to_value">read_only</td>' in filtered.content.decode()
