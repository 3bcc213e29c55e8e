"""The admin follows the maintenance mode: read-only pages, refused saves that keep the input."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse

from notifications.models import NotificationChannel
from notifications.tests.factories import ChannelFactory, WebhookChannelFactory
from retention.models import DataRetentionPolicy
from retention.tests.factories import PolicyFactory

pytestmark = pytest.mark.django_db

SAVE_BUTTONS = ('name="_save"', 'name="_continue"', 'name="_addanother"')


def has_save_buttons(html: str) -> bool:
    return any(button in html for button in SAVE_BUTTONS)


def test_in_normal_mode_forms_are_editable(staff_client):
    html = staff_client.get(reverse("admin:notifications_notificationchannel_add")).content.decode()
    assert has_save_buttons(html)
    assert 'id="readonly-notice"' not in html


@pytest.mark.parametrize("mode", ["read_only", "maintenance"])
@pytest.mark.parametrize(
    "url_name",
    [
        "admin:notifications_notificationchannel_add",
        "admin:retention_dataretentionpolicy_add",
        "admin:exports_exportjob_add",
        "admin:auth_group_add",
    ],
)
def test_add_pages_render_read_only_with_the_reason_and_no_save_buttons(staff_client, switch_mode, mode, url_name):
    switch_mode(mode, message="Moving the database")
    response = staff_client.get(reverse(url_name))
    html = response.content.decode()
    assert response.status_code == 200
    assert not has_save_buttons(html)
    assert 'id="readonly-notice"' in html and "changes are refused until it is back to normal" in html
    assert "Moving the database" in html
    assert "disabled" in html


def test_a_change_page_renders_read_only_and_keeps_credentials_masked(staff_client, switch_mode):
    webhook = WebhookChannelFactory(
        target="https://hooks.example.com/in?token=tok-in-query",
        config={"headers": {"Authorization": "Bearer hdr-tok"}},
    )
    slack = ChannelFactory(channel_type="slack", target="https://hooks.slack.com/services/T0/B0/slacksecret")
    switch_mode("read_only")
    for channel, credential in ((webhook, "tok-in-query"), (slack, "slacksecret")):
        url = reverse("admin:notifications_notificationchannel_change", args=[channel.pk])
        html = staff_client.get(url).content.decode()
        assert not has_save_buttons(html)
        assert reverse("admin:notifications_notificationchannel_delete", args=[channel.pk]) not in html
        assert credential not in html and webhook.secret not in html and "hdr-tok" not in html


def test_a_refused_save_comes_back_with_the_input_and_why(staff_client, switch_mode):
    policy = PolicyFactory(category="exports.jobs", days_to_keep=30)
    switch_mode("read_only")
    url = reverse("admin:retention_dataretentionpolicy_change", args=[policy.pk])
    response = staff_client.post(url, {"days_to_keep": "45", "enabled": "on", "description": "typed by hand"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Not saved. The console is in read_only mode" in html
    assert "typed by hand" in html and 'value="45"' in html
    assert has_save_buttons(html)  # to save again once the mode is back
    policy.refresh_from_db()
    assert policy.days_to_keep == 30 and not policy.description


def test_a_refused_add_creates_nothing(staff_client, switch_mode):
    switch_mode("maintenance")
    form = {"name": "ops", "channel_type": "log", "target": "ops", "config": "{}", "max_attempts": "8"}
    response = staff_client.post(reverse("admin:notifications_notificationchannel_add"), form)
    assert response.status_code == 200
    assert 'value="ops"' in response.content.decode()
    assert not NotificationChannel.objects.exists()


def test_a_refused_list_action_returns_to_the_list_with_a_message(staff_client, switch_mode):
    channel = ChannelFactory()
    switch_mode("read_only")
    url = reverse("admin:notifications_notificationchannel_changelist")
    response = staff_client.post(url, {"action": "pause_channels", "_selected_action": [channel.pk]}, follow=True)
    assert response.status_code == 200
    assert any(
        str(m).startswith("Nothing done. The console is in read_only mode") for m in get_messages(response.wsgi_request)
    )
    channel.refresh_from_db()
    assert not channel.paused


def test_a_refused_delete_returns_with_a_message(staff_client, switch_mode):
    group = Group.objects.create(name="ops")
    switch_mode("read_only")
    response = staff_client.post(reverse("admin:auth_group_delete", args=[group.pk]), {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert any(str(m).startswith("Not deleted.") for m in get_messages(response.wsgi_request))
    assert Group.objects.filter(pk=group.pk).exists()


def test_the_maintenance_screen_stays_usable(staff_client, switch_mode):
    switch_mode("read_only")
    html = staff_client.get(reverse("admin:maintenance_maintenancestate_changelist")).content.decode()
    assert 'id="readonly-notice"' not in html
    assert 'name="reason"' in html
    staff_client.post(reverse("admin:maintenance_maintenancestate_changelist"), {"mode": "normal", "reason": "done"})
    html = staff_client.get(reverse("admin:retention_dataretentionpolicy_add")).content.decode()
    assert has_save_buttons(html)
    assert not DataRetentionPolicy.objects.exists()


def test_an_api_write_still_gets_the_503(staff_client, switch_mode):
    switch_mode("read_only")
    response = staff_client.post(reverse("admin:auth_group_add"), {"name": "ops"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert not Group.objects.exists()
