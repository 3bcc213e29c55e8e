"""The /system/notify API never echoes a credential, and keeps one only for the destination it was given for."""

import json

import pytest
from standardwebhooks.webhooks import Webhook

from notifications.delivery.dispatcher import notification_dispatch_due
from notifications.models import NotificationChannel, NotificationOutbox
from notifications.tests.factories import ChannelFactory, OutboxFactory, WebhookChannelFactory

pytestmark = pytest.mark.django_db


def post(api, path, data=None, **extra):
    return api.post(path, data=json.dumps(data) if data is not None else None, content_type="application/json", **extra)


def reload_channel(channel):
    channel.refresh_from_db()
    return channel


@pytest.mark.parametrize(
    ("channel_type", "target", "config", "shown_target", "shown_config"),
    [
        (
            "slack",
            "https://hooks.slack.com/services/T0001/B0001/sEcReTtOkEn",
            {"username": "ops"},
            "https://hooks.slack.com/services/T0001/B0001/********",
            {"username": "ops"},
        ),
        (
            "webhook",
            "https://bob:hunter2@hooks.example.com/in?token=abc&team=x",
            {"headers": {"Authorization": "Bearer sEcReT"}},
            "https://bob:********@hooks.example.com/in?token=********&team=********",
            {"headers": {"Authorization": "********"}},
        ),
        ("apprise", "tgram://123456:sEcReTbOt/987", {}, "tgram://********", {}),
        ("email", "ops@example.com", {}, "ops@example.com", {}),
    ],
)
def test_list_and_detail_show_targets_and_config_with_credentials_redacted(
    api, channel_type, target, config, shown_target, shown_config
):
    channel = ChannelFactory(channel_type=channel_type, target=target, config=config)
    detail = api.get(f"/system/notify/channels/{channel.pk}").json()
    [listed] = api.get("/system/notify/channels").json()["results"]
    for shown in (detail, listed):
        assert (shown["target"], shown["config"]) == (shown_target, shown_config)
        assert "sEcReT" not in json.dumps(shown) and "hunter2" not in json.dumps(shown)


def test_sending_back_the_redacted_values_keeps_the_stored_credentials(api, allow_private, sink):
    target = f"{sink.url}?token=abc"
    created = post(
        api,
        "/system/notify/channels",
        {
            "name": "hook",
            "channel_type": "webhook",
            "target": target,
            "config": {"headers": {"Authorization": "Bearer one", "X-Team": "ops"}},
        },
    )
    assert created.status_code == 201, created.json()
    shown = created.json()
    assert shown["config"]["headers"] == {"Authorization": "********", "X-Team": "********"}
    # A client edits one header and sends the rest back as it read them.
    body = {"target": shown["target"], "config": {"headers": {**shown["config"]["headers"], "X-Team": "sre"}}}
    response = api.patch(f"/system/notify/channels/{shown['id']}", body, format="json")
    assert response.status_code == 200, response.json()
    channel = NotificationChannel.objects.get(pk=shown["id"])
    assert channel.target == target
    assert channel.config["headers"] == {"Authorization": "Bearer one", "X-Team": "sre"}
    # A real new value replaces the stored one.
    new_target = f"{sink.url}?token=xyz"
    assert api.patch(f"/system/notify/channels/{channel.pk}", {"target": new_target}, format="json").status_code == 200
    channel.refresh_from_db()
    assert channel.target == new_target


def test_channel_fields_take_json_types_as_sent(api):
    for body, field in (
        ({"name": 5, "channel_type": "log", "target": "ops"}, "name"),
        ({"name": "n", "channel_type": "log", "target": ["ops"]}, "target"),
        ({"name": "n", "channel_type": "log", "target": "ops", "active": "yes"}, "active"),
    ):
        response = post(api, "/system/notify/channels", body)
        assert response.status_code == 400 and field in response.json()["errors"], body
    assert not NotificationChannel.objects.exists()


def test_patching_active_on_a_paused_channel_keeps_the_reason_of_the_pause(api):
    channel = ChannelFactory(paused=True, disabled_reason="Paused after 20 consecutive failures")
    response = api.patch(f"/system/notify/channels/{channel.pk}", {"active": True}, format="json")
    assert response.status_code == 200
    assert response.json()["disabled_reason"] == "Paused after 20 consecutive failures"
    channel.refresh_from_db()
    assert channel.paused


def test_an_idempotency_key_reused_for_another_notification_is_a_422(api):
    channel = ChannelFactory()
    body = {"channel_id": channel.pk, "subject": "disk", "body": "80 %"}
    assert post(api, "/system/notify/", body, HTTP_IDEMPOTENCY_KEY="k1").status_code == 201
    again = post(api, "/system/notify/", {**body, "body": "95 %"}, HTTP_IDEMPOTENCY_KEY="k1")
    assert again.status_code == 422
    assert "body" in again.json()["errors"] and "k1" in again.json()["detail"]
    assert NotificationOutbox.objects.count() == 1
    assert post(api, "/system/notify/", body, HTTP_IDEMPOTENCY_KEY="k1").status_code == 200  # the same: its row


def test_only_a_signing_channel_answers_with_a_secret(api, allow_private, sink):
    log = post(api, "/system/notify/channels", {"name": "log", "channel_type": "log", "target": "ops"}).json()
    assert "secret" not in log and log["has_secret"] is False
    hook = post(api, "/system/notify/channels", {"name": "h", "channel_type": "webhook", "target": sink.url}).json()
    assert hook["secret"].startswith("whsec_") and hook["has_secret"] is True


def test_a_stored_header_never_follows_the_target_to_another_server(api, sink, httpserver):
    """The review's finding: PATCH a new target with the masked header sent back got the real token sent there."""
    channel = WebhookChannelFactory(target=sink.url, config={"headers": {"Authorization": "Bearer sEcReT"}})
    url = f"/system/notify/channels/{channel.pk}"
    elsewhere = httpserver.url_for("/mine")  # another port: another destination
    for body in (
        {"target": elsewhere, "config": {"headers": {"Authorization": "********"}}},
        {"target": elsewhere},  # config left out: the stored header would follow all the same
    ):
        response = api.patch(url, body, format="json")
        assert response.status_code == 400, response.json()
        assert "config.headers.Authorization" in response.json()["errors"]["config"][0]
        channel.refresh_from_db()
        assert (channel.target, channel.config) == (sink.url, {"headers": {"Authorization": "Bearer sEcReT"}})
    # With the credential given again it moves, and the new server only ever sees the new one.
    body = {"target": elsewhere, "config": {"headers": {"Authorization": "Bearer mine"}}}
    assert api.patch(url, body, format="json").status_code == 200
    httpserver.expect_request("/mine").respond_with_data("", status=204)
    OutboxFactory(channel=channel)
    notification_dispatch_due()
    [(request, _response)] = httpserver.log
    assert request.headers["Authorization"] == "Bearer mine"
    assert sink.received == []


def test_masked_headers_are_kept_while_the_destination_stays(api, sink):
    channel = WebhookChannelFactory(target=sink.url, config={"headers": {"Authorization": "Bearer sEcReT"}})
    body = {"target": sink.url.replace("/hook", "/other-path"), "config": {"headers": {"Authorization": "********"}}}
    response = api.patch(f"/system/notify/channels/{channel.pk}", body, format="json")
    assert response.status_code == 200, response.json()
    channel.refresh_from_db()
    assert channel.config == {"headers": {"Authorization": "Bearer sEcReT"}}


def test_a_masked_header_with_no_stored_value_is_a_400_not_stored_literally(api, sink):
    channel = WebhookChannelFactory(target=sink.url, config={"headers": {"X-Team": "ops"}})
    body = {"config": {"headers": {"X-Team": "********", "Authorization": "********"}}}
    response = api.patch(f"/system/notify/channels/{channel.pk}", body, format="json")
    assert response.status_code == 400
    assert "config.headers.Authorization" in response.json()["errors"]["config"][0]
    channel.refresh_from_db()
    assert channel.config == {"headers": {"X-Team": "ops"}}


@pytest.mark.parametrize(
    ("channel_type", "stored", "sent", "kept"),
    [
        # The masked parts of the target itself: restored on the same server, refused on another.
        ("webhook", "{a}/in?token=sEcReT&team=ops", "{b}/in?token=********&team=ops", None),
        ("webhook", "{a}/in?token=sEcReT&team=ops", "{a}/v2?token=********&team=sre", "{a}/v2?token=sEcReT&team=sre"),
        ("webhook", "http://bob:sEcReT@{ah}/in", "http://bob:********@{bh}/in", None),
        ("webhook", "http://bob:sEcReT@{ah}/in", "http://bob:********@{ah}/v2", "http://bob:sEcReT@{ah}/v2"),
        ("webhook", "http://bob:sEcReT@{ah}/in", "http://eve:********@{ah}/in", None),  # another user
        ("webhook", "{a}/in?token=sEcReT", "{a}/in?token=sEcReT&key=********", None),  # nothing stored for key
        ("slack", "{a}/services/T1/B1/sEcReT", "{b}/services/T1/B1/********", None),
        ("slack", "{a}/services/T1/B1/sEcReT", "{a}/services/T1/B2/********", "{a}/services/T1/B2/sEcReT"),
    ],
)
def test_masked_url_credentials_are_restored_only_for_the_same_destination(
    api, sink, httpserver, channel_type, stored, sent, kept
):
    a, b = sink.url.removesuffix("/hook"), httpserver.url_for("/").rstrip("/")
    hosts = {"a": a, "b": b, "ah": a.removeprefix("http://"), "bh": b.removeprefix("http://")}
    channel = ChannelFactory(channel_type=channel_type, target=stored.format(**hosts))
    response = api.patch(f"/system/notify/channels/{channel.pk}", {"target": sent.format(**hosts)}, format="json")
    channel.refresh_from_db()
    if kept is None:
        assert response.status_code == 400, response.json()
        assert "********" in response.json()["errors"]["target"][0]
        assert channel.target == stored.format(**hosts)
    else:
        assert response.status_code == 200, response.json()
        assert channel.target == kept.format(**hosts)


def test_an_apprise_url_is_kept_only_when_sent_back_whole(api, notify_config):
    notify_config(APPRISE_SCHEMES=["tgram", "json"])
    channel = ChannelFactory(channel_type="apprise", target="tgram://123456:sEcReTbOt/987")
    url = f"/system/notify/channels/{channel.pk}"
    assert api.patch(url, {"target": "tgram://********", "name": "tg"}, format="json").status_code == 200
    for sent in ("json://hooks.example.com/********", "tgram://********/555", "json://********"):
        response = api.patch(url, {"target": sent}, format="json")
        assert response.status_code == 400 and "target" in response.json()["errors"], sent
    channel.refresh_from_db()
    assert (channel.name, channel.target) == ("tg", "tgram://123456:sEcReTbOt/987")


def test_a_rotated_secret_keeps_signing_alongside_the_new_one_for_the_grace_period_only(api, sink, notify_config):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone
    from standardwebhooks.webhooks import WebhookVerificationError

    notify_config(SECRET_GRACE_HOURS=24)
    created = post(api, "/system/notify/channels", {"name": "hook", "channel_type": "webhook", "target": sink.url})
    channel_id, old = created.json()["id"], created.json()["secret"]
    rotated = post(api, f"/system/notify/channels/{channel_id}/rotate-secret")
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != old
    detail = api.get(f"/system/notify/channels/{channel_id}").json()
    assert detail["previous_secret_expires_at"] is not None
    # The previous secret is write-only, like the secret: no answer carries it.
    for answer in (rotated.json(), detail, api.get("/system/notify/channels").json()):
        assert old not in json.dumps(answer)

    def deliver_one():
        assert post(api, "/system/notify/", {"channel_id": channel_id, "body": "disk"}).status_code == 201
        notification_dispatch_due()
        return sink.received[-1]

    during = deliver_one()
    assert len(during.headers["Webhook-Signature"].split(" ")) == 2
    Webhook(new).verify(during.body, during.headers)
    Webhook(old).verify(during.body, during.headers)

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        after = deliver_one()
        assert len(after.headers["Webhook-Signature"].split(" ")) == 1
        Webhook(new).verify(after.body, after.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify(after.body, after.headers)
        assert api.get(f"/system/notify/channels/{channel_id}").json()["previous_secret_expires_at"] is None
