"""The channel form's per-type options: fields instead of a JSON box, saving the API's config."""

import pytest
from django.urls import reverse

from notifications.models import NotificationChannel
from notifications.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

ADD = "admin:notifications_notificationchannel_add"


def post_channel(client, channel_type, target, **options):
    data = {"name": f"{channel_type}-1", "channel_type": channel_type, "target": target, "max_attempts": "8"}
    data.update({f"config__{key}": value for key, value in options.items()})
    return client.post(reverse(ADD), data)


def test_the_add_form_has_a_group_of_fields_per_type_and_no_json_box(staff_client):
    html = staff_client.get(reverse(ADD)).content.decode()
    assert '<textarea name="config"' not in html
    for channel_type in ("email", "webhook", "slack", "apprise", "log"):
        assert f'data-channel-type="{channel_type}"' in html
    for name in (
        "config__email__from_email",
        "config__email__reply_to",
        "config__webhook__headers__name",
        "config__slack__username",
        "config__slack__icon_emoji",
        "config__log__level",
    ):
        assert f'name="{name}"' in html
    assert "notifications/channel_form.js" in html


def test_email_options_are_saved_as_the_apis_config(staff_client):
    response = post_channel(
        staff_client,
        "email",
        "ops@example.com",
        email__from_email="alerts@example.com",
        email__reply_to="",
        slack__username="ignored: not this type's",
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert NotificationChannel.objects.get().config == {"from_email": "alerts@example.com"}


def test_slack_and_log_options_are_saved(staff_client, allow_private):
    post_channel(
        staff_client,
        "slack",
        "https://127.0.0.1:9/services/T0/B0/x",
        slack__username="opsbot",
        slack__icon_emoji=":rotating_light:",
    )
    post_channel(staff_client, "log", "ops", log__level="WARNING")
    configs = dict(NotificationChannel.objects.values_list("channel_type", "config"))
    assert configs == {"slack": {"username": "opsbot", "icon_emoji": ":rotating_light:"}, "log": {"level": "WARNING"}}


def test_webhook_headers_are_rows_and_empty_rows_are_ignored(staff_client, allow_private):
    response = post_channel(
        staff_client,
        "webhook",
        "http://127.0.0.1:9/hook",
        webhook__headers__name=["X-Team", "", "Authorization"],
        webhook__headers__value=["ops", "", "Bearer t0ken"],
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert NotificationChannel.objects.get().config == {"headers": {"X-Team": "ops", "Authorization": "Bearer t0ken"}}


def test_a_bad_option_is_refused_by_the_service_and_nothing_is_saved(staff_client):
    response = post_channel(staff_client, "email", "ops@example.com", email__from_email="not-an-address")
    assert response.status_code == 200
    assert 'value="not-an-address"' in response.content.decode()  # what was typed comes back
    assert not NotificationChannel.objects.exists()


def test_the_change_form_shows_header_names_and_masks_their_values(staff_client):
    channel = ChannelFactory(
        channel_type="webhook",
        target="https://hooks.example.com/in",
        config={"headers": {"Authorization": "Bearer s3cr3t"}},
    )
    html = staff_client.get(reverse("admin:notifications_notificationchannel_change", args=[channel.pk])).content
    html = html.decode()
    assert 'value="Authorization"' in html and 'value="********"' in html
    assert "s3cr3t" not in html


def test_a_type_without_options_says_so(staff_client):
    html = staff_client.get(reverse(ADD)).content.decode()
    apprise = html.split('data-channel-type="apprise"', 1)[1].split("</fieldset>", 1)[0]
    assert "No options" in apprise
