import json

import pytest
from standardwebhooks.webhooks import Webhook

from notifications.delivery.dispatcher import notification_dispatch_due
from notifications.models import NotificationChannel, NotificationOutbox, NotificationStatus
from notifications.tests.factories import ChannelFactory, OutboxFactory, WebhookChannelFactory

pytestmark = pytest.mark.django_db


def post(api, path, data=None, **extra):
    return api.post(path, data=json.dumps(data) if data is not None else None, content_type="application/json", **extra)


def test_an_outside_client_gets_the_secret_once_and_20_notifications_arrive_signed(api, sink):
    created = post(api, "/system/notify/channels", {"name": "ops-hook", "channel_type": "webhook", "target": sink.url})
    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    channel_id = created.json()["id"]
    assert "secret" not in api.get(f"/system/notify/channels/{channel_id}").json()
    assert all("secret" not in c for c in api.get("/system/notify/channels").json()["results"])
    for i in range(20):
        response = post(api, "/system/notify/", {"channel_id": channel_id, "subject": f"s{i}", "body": "b"})
        assert response.status_code == 201
    notification_dispatch_due()
    listed = api.get("/system/notify/", {"channel": channel_id, "status": "sent"}).json()["results"]
    assert len(listed) == 20
    for received in sink.received:
        Webhook(secret).verify(received.body, received.headers)


@pytest.mark.parametrize("path", ["/system/notify/channels", "/system/notify/channels/"])
def test_channel_paths_work_with_and_without_the_trailing_slash(api, path):
    response = post(api, path, {"name": path, "channel_type": "log", "target": "ops"})
    assert response.status_code == 201
    assert api.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/system/notify", "/system/notify/"])
def test_outbox_paths_work_with_and_without_the_trailing_slash(api, path):
    channel = ChannelFactory()
    assert post(api, path, {"channel_id": channel.pk, "body": "hello"}).status_code == 201
    assert api.get(path).status_code == 200


def test_detail_and_action_paths_work_without_the_trailing_slash(api):
    notification = OutboxFactory(status=NotificationStatus.FAILED)
    assert api.get(f"/system/notify/{notification.pk}").status_code == 200
    assert api.get(f"/system/notify/{notification.pk}/").status_code == 200
    assert post(api, f"/system/notify/{notification.pk}/retry").status_code == 200
    assert post(api, f"/system/notify/channels/{notification.channel_id}/pause/").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "channel_type": "pigeon", "target": "x"}, "channel_type"),
        ({"name": "x", "channel_type": "webhook", "target": "not-a-url"}, "target"),
        ({"name": "x", "channel_type": "email", "target": "bad@"}, "target"),
        ({"name": "x", "channel_type": "log", "target": "ops", "config": "nope"}, "config"),
        ({"name": "x", "channel_type": "log", "target": "ops", "secret": "whsec_mine"}, "secret"),
        ({"channel_type": "log", "target": "ops"}, "name"),
    ],
)
def test_bad_channel_input_is_a_400_naming_the_field(api, body, field):
    response = post(api, "/system/notify/channels", body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not NotificationChannel.objects.exists()


def test_a_duplicate_channel_name_is_a_400_on_name(api):
    ChannelFactory(name="ops")
    response = post(api, "/system/notify/channels", {"name": "ops", "channel_type": "log", "target": "ops"})
    assert response.status_code == 400
    assert "name" in response.json()["errors"]


def test_metadata_webhook_target_is_refused_at_creation(api, allow_private):
    response = post(
        api,
        "/system/notify/channels",
        {"name": "meta", "channel_type": "webhook", "target": "http://169.254.169.254/latest/meta-data"},
    )
    assert response.status_code == 400
    assert "link-local" in response.json()["errors"]["target"][0]


def test_patch_changes_a_channel_and_revalidates_the_target(api):
    channel = ChannelFactory(channel_type="email", target="a@example.com")
    url = f"/system/notify/channels/{channel.pk}"
    response = api.patch(
        url, data=json.dumps({"target": "b@example.com", "active": False}), content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["target"] == "b@example.com" and response.json()["active"] is False
    bad = api.patch(url, data=json.dumps({"target": "nope"}), content_type="application/json")
    assert bad.status_code == 400 and "target" in bad.json()["errors"]


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ({"X Team": "ops"}, "X Team"),  # a space is not a token character
        ({"X-Team:": "ops"}, "X-Team:"),
        ({"": "ops"}, "''"),
        ({"X-Team": "ops\r\nX-Injected: 1"}, "X-Team"),
        ({"X-Team": "ops\n"}, "X-Team"),
        ({"X-Team": "ops\u0000"}, "X-Team"),
        ({"X-Team": "\u00e9quipe \u2603"}, "X-Team"),  # the snowman is not Latin-1
        ({"Webhook-Signature": "v1,forged"}, "Webhook-Signature"),
        ({"webhook-id": "msg_mine"}, "webhook-id"),
        ({"WEBHOOK-TIMESTAMP": "0"}, "WEBHOOK-TIMESTAMP"),
        ({"Content-Type": "text/plain"}, "Content-Type"),
        ({"Host": "internal"}, "Host"),
        ({"Content-Length": "0"}, "Content-Length"),
    ],
)
def test_a_webhook_header_that_cannot_be_sent_or_would_override_ours_is_a_400_on_config_naming_it(
    api, allow_private, headers, named
):
    body = {"name": "h", "channel_type": "webhook", "target": "https://127.0.0.1/hook", "config": {"headers": headers}}
    response = post(api, "/system/notify/channels", body)
    assert response.status_code == 400
    assert named in response.json()["errors"]["config"][0]
    assert not NotificationChannel.objects.exists()


def test_patching_webhook_headers_is_validated_too(api, allow_private):
    channel = WebhookChannelFactory(target="https://127.0.0.1/hook")
    url = f"/system/notify/channels/{channel.pk}"

    def patch(headers):
        return api.patch(url, data=json.dumps({"config": {"headers": headers}}), content_type="application/json")

    assert patch({"X-Team": "ops", "X-Note": "caf\u00e9"}).status_code == 200
    bad = patch({"X-Team": "ops\r\nX-Injected: 1"})
    assert bad.status_code == 400 and "X-Team" in bad.json()["errors"]["config"][0]
    assert reload_channel(channel).config == {"headers": {"X-Team": "ops", "X-Note": "caf\u00e9"}}


def reload_channel(channel):
    channel.refresh_from_db()
    return channel


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_attempts", 51),
        ("max_attempts", 2**15),
        ("rate_limit_per_minute", 100_001),
        ("rate_limit_per_minute", 2**31),
    ],
)
def test_limits_beyond_their_bounds_are_a_400_on_create_and_patch(api, field, value):
    body = {"name": "x", "channel_type": "log", "target": "ops", field: value}
    response = post(api, "/system/notify/channels", body)
    assert response.status_code == 400 and field in response.json()["errors"]
    channel = ChannelFactory()
    url = f"/system/notify/channels/{channel.pk}"
    bad = api.patch(url, data=json.dumps({field: value}), content_type="application/json")
    assert bad.status_code == 400 and field in bad.json()["errors"]


def test_limits_at_their_bounds_are_stored(api):
    body = {"name": "x", "channel_type": "log", "target": "ops", "max_attempts": 50, "rate_limit_per_minute": 100_000}
    response = post(api, "/system/notify/channels", body)
    assert response.status_code == 201
    channel = NotificationChannel.objects.get(name="x")
    assert (channel.max_attempts, channel.rate_limit_per_minute) == (50, 100_000)


def test_channels_filter_by_active_and_paused(api):
    ChannelFactory(name="on", active=True)
    ChannelFactory(name="off", active=False)
    ChannelFactory(name="held", paused=True)

    def names(**params):
        response = api.get("/system/notify/channels", params)
        assert response.status_code == 200
        return sorted(channel["name"] for channel in response.json()["results"])

    assert names(active="false") == ["off"]
    assert names(active="true", paused="false") == ["on"]
    assert names(paused="True") == ["held"]
    assert names(active="0") == names(active="no") == ["off"]


@pytest.mark.parametrize("field", ["active", "paused"])
@pytest.mark.parametrize("value", ["maybe", "2", "ture"])
def test_an_invalid_boolean_filter_value_is_a_400_naming_the_field(api, field, value):
    ChannelFactory()
    response = api.get("/system/notify/channels", {field: value})
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_deleting_a_channel_with_notifications_is_a_409_telling_to_deactivate(api):
    notification = OutboxFactory()
    response = api.delete(f"/system/notify/channels/{notification.channel_id}")
    assert response.status_code == 409
    assert "deactivate" in response.json()["detail"]
    empty = ChannelFactory()
    assert api.delete(f"/system/notify/channels/{empty.pk}/").status_code == 204


def test_rotate_secret_returns_the_new_secret_once(api):
    channel = WebhookChannelFactory()
    response = post(api, f"/system/notify/channels/{channel.pk}/rotate-secret")
    assert response.status_code == 200
    channel.refresh_from_db()
    assert response.json()["secret"] == channel.secret


def test_test_action_queues_a_notification(api, django_capture_on_commit_callbacks):
    channel = ChannelFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(api, f"/system/notify/channels/{channel.pk}/test")
    assert response.status_code == 202
    assert NotificationOutbox.objects.get().channel == channel
    assert len(callbacks) == 1


def test_pause_and_resume_through_the_api(api):
    channel = ChannelFactory()
    assert post(api, f"/system/notify/channels/{channel.pk}/pause").json()["paused"] is True
    assert post(api, f"/system/notify/channels/{channel.pk}/resume").json()["paused"] is False


def test_the_same_idempotency_key_answers_200_with_the_same_row(api):
    channel = ChannelFactory()
    body = {"channel_id": channel.pk, "body": "once"}
    first = post(api, "/system/notify/", body, HTTP_IDEMPOTENCY_KEY="abc")
    second = post(api, "/system/notify/", body, HTTP_IDEMPOTENCY_KEY="abc")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert NotificationOutbox.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"body": "b"}, "channel_id", 400),
        ({"channel_id": 1, "subject": "no body"}, "body", 400),
        ({"channel_id": 1, "body": "b", "payload": [1]}, "payload", 400),
        ({"channel_id": 1, "body": "b", "payload": "text"}, "payload", 400),
        ({"channel_id": 1, "body": "b", "colour": "red"}, "colour", 400),
        ({"channel_id": 1, "body": "b", "subject": "Disk full\r\nBcc: everyone@example.com"}, "subject", 400),
        ({"channel_id": 1, "body": "b", "subject": "Disk\nfull"}, "subject", 400),
    ],
)
def test_bad_enqueue_input_is_a_400_and_writes_nothing(api, body, field, status):
    ChannelFactory(pk=1)
    response = post(api, "/system/notify/", body)
    assert response.status_code == status
    assert field in response.json()["errors"]
    assert not NotificationOutbox.objects.exists()


def test_enqueue_on_a_missing_channel_is_404_and_on_an_inactive_one_400(api):
    assert post(api, "/system/notify/", {"channel_id": 999, "body": "b"}).status_code == 404
    inactive = ChannelFactory(active=False)
    response = post(api, "/system/notify/", {"channel_id": inactive.pk, "body": "b"})
    assert response.status_code == 400
    assert "channel_id" in response.json()["errors"]


def test_malformed_json_is_a_400(api):
    response = api.post("/system/notify/", data="{not json", content_type="application/json")
    assert response.status_code == 400


def test_notification_detail_shows_state_and_the_attempt_log(api, sink):
    channel = WebhookChannelFactory(target=sink.url)
    sink.statuses = [503, 204]
    notification = OutboxFactory(channel=channel)
    notification_dispatch_due()
    body = api.get(f"/system/notify/{notification.pk}").json()
    assert body["status"] == "pending" and body["attempts"] == 1
    assert "503" in body["last_error"]
    assert body["next_attempt_at"] and body["sent_at"] is None
    assert body["message_id"] == notification.message_id
    assert body["attempt_log"][0]["http_status"] == 503
    assert body["attempt_log"][0]["outcome"] == "retry"


def test_retry_is_a_409_unless_failed_or_cancelled(api):
    sent = OutboxFactory(status=NotificationStatus.SENT)
    assert post(api, f"/system/notify/{sent.pk}/retry").status_code == 409
    failed = OutboxFactory(status=NotificationStatus.FAILED)
    response = post(api, f"/system/notify/{failed.pk}/retry")
    assert response.status_code == 200 and response.json()["status"] == "pending"


def test_retry_and_replay_refuse_an_inactive_channel_and_change_nothing(api):
    gone = ChannelFactory(active=False, disabled_reason="endpoint answered 410 Gone")
    failed = OutboxFactory(channel=gone, status=NotificationStatus.FAILED)
    response = post(api, f"/system/notify/{failed.pk}/retry")
    assert response.status_code == 409 and "inactive" in response.json()["detail"]
    assert post(api, "/system/notify/replay", {"channel_id": gone.pk}).status_code == 409
    live = OutboxFactory(status=NotificationStatus.FAILED)
    assert post(api, "/system/notify/replay", {}).json() == {"count": 1}  # only the active channel's
    assert NotificationOutbox.objects.get(pk=failed.pk).status == NotificationStatus.FAILED
    assert NotificationOutbox.objects.get(pk=live.pk).status == NotificationStatus.PENDING


def test_replay_requeues_failed_notifications_in_a_range_and_returns_the_count(api):
    channel = ChannelFactory()
    OutboxFactory.create_batch(2, channel=channel, status=NotificationStatus.FAILED)
    OutboxFactory(channel=channel, status=NotificationStatus.SENT)
    response = post(api, "/system/notify/replay", {"channel_id": channel.pk, "created_after": "2000-01-01T00:00:00Z"})
    assert response.status_code == 200
    assert response.json() == {"count": 2}
    bad = post(api, "/system/notify/replay", {"created_after": "yesterday"})
    assert bad.status_code == 400 and "created_after" in bad.json()["errors"]


def test_outbox_filters_by_status_channel_created_range_and_subject(api):
    a, b = ChannelFactory(), ChannelFactory()
    OutboxFactory(channel=a, subject="disk full", status=NotificationStatus.FAILED)
    OutboxFactory(channel=a, subject="cpu hot")
    OutboxFactory(channel=b, subject="disk full")

    def ids(**params):
        response = api.get("/system/notify/", params)
        assert response.status_code == 200, response.json()
        return len(response.json()["results"])

    assert ids(status="failed") == 1
    assert ids(channel=a.pk) == 2
    assert ids(subject="disk") == 2
    assert ids(created_after="2000-01-01T00:00:00Z", created_before="2000-01-02T00:00:00Z") == 0
    assert ids(created_after="2000-01-01T00:00:00Z") == 3


def test_unknown_or_invalid_filters_are_a_400(api):
    assert api.get("/system/notify/", {"stauts": "failed"}).status_code == 400
    assert api.get("/system/notify/", {"status": "exploded"}).status_code == 400
    assert api.get("/system/notify/", {"created_after": "soon"}).status_code == 400


def test_the_outbox_list_is_cursor_paginated(api):
    OutboxFactory.create_batch(3)
    page = api.get("/system/notify/", {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"] and "cursor=" in page["next"]


def test_anonymous_is_401_and_non_staff_403(anon_api, nonstaff_api):
    assert anon_api.get("/system/notify/channels").status_code == 401
    assert nonstaff_api.get("/system/notify/").status_code == 403


def test_missing_objects_are_404(api):
    assert api.get("/system/notify/4242").status_code == 404
    assert api.get("/system/notify/channels/4242").status_code == 404
    assert post(api, "/system/notify/4242/retry").status_code == 404


def test_the_openapi_schema_describes_the_notify_endpoints(api):
    schema = api.get("/system/schema/", HTTP_ACCEPT="application/json").json()
    paths = " ".join(schema["paths"])
    for fragment in ("/channels/{id}/rotate-secret/", "/{id}/retry/", "/replay/"):
        assert fragment in paths
