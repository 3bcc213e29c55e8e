"""Each channel backend against a real peer."""

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from notifications.channels import ChannelSnapshot, DeliveryContext, OutgoingMessage, get_backend
from notifications.channels.webhook import generate_secret
from notifications.exceptions import ChannelGone, PermanentDeliveryError, RetryableDeliveryError


def message(channel_type, target, *, secret="", config=None, payload=None):
    return OutgoingMessage(
        outbox_id=7,
        message_id="msg_0123456789abcdef",
        subject="Disk almost full",
        body="Disk /var is 91% full.",
        payload=payload if payload is not None else {"host": "web-1"},
        created_at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
        attempt_number=1,
        channel=ChannelSnapshot(
            id=3, name="ops", channel_type=channel_type, target=target, config=config or {}, secret=secret
        ),
    )


def send(msg):
    with DeliveryContext() as context:
        return get_backend(msg.channel.channel_type).send(msg, context)


def test_webhook_signature_verifies_with_standardwebhooks(sink):
    secret = generate_secret()
    sink.secret = secret
    report = send(message("webhook", sink.url, secret=secret, config={"headers": {"X-Team": "ops"}}))
    assert report.http_status == 204
    received = sink.received[0]
    assert received.verified is True
    assert received.headers["Webhook-Id"] == "msg_0123456789abcdef"
    assert received.headers["X-Team"] == "ops"
    data = Webhook(secret).verify(received.body, received.headers)
    assert data["type"] == "notification"
    assert data["data"]["subject"] == "Disk almost full"
    assert data["data"]["payload"] == {"host": "web-1"}


def test_webhook_headers_the_config_accepts_arrive_as_configured(sink):
    config = {"headers": {"X-Team": "ops", "X-Site": "Z\u00fcrich", "X-Build.v2~rc": "a b"}}
    get_backend("webhook").clean_config(config)
    send(message("webhook", sink.url, secret=generate_secret(), config=config))
    headers = {name.lower(): value for name, value in sink.received[0].headers.items()}
    assert (headers["x-team"], headers["x-build.v2~rc"], headers["x-site"]) == ("ops", "a b", "Z\u00fcrich")


def test_webhook_signed_with_another_secret_does_not_verify(sink):
    sink.secret = generate_secret()
    send(message("webhook", sink.url, secret=generate_secret()))
    assert sink.received[0].verified is False


def test_webhook_secret_starts_with_whsec():
    assert generate_secret().startswith("whsec_")
    assert generate_secret() != generate_secret()


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
def test_retryable_answers_raise_a_retry(sink, status):
    sink.statuses = [status]
    with pytest.raises(RetryableDeliveryError) as info:
        send(message("webhook", sink.url, secret=generate_secret()))
    assert info.value.http_status == status


def test_retry_after_header_is_read(sink):
    sink.statuses = [429]
    sink.headers = {"Retry-After": "120"}
    with pytest.raises(RetryableDeliveryError) as info:
        send(message("webhook", sink.url, secret=generate_secret()))
    assert info.value.retry_after == 120


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_client_errors_fail_permanently(sink, status):
    sink.statuses = [status]
    with pytest.raises(PermanentDeliveryError) as info:
        send(message("webhook", sink.url, secret=generate_secret()))
    assert not isinstance(info.value, ChannelGone)
    assert info.value.response_excerpt == f"answer {status}"


def test_410_means_the_channel_is_gone(sink):
    sink.statuses = [410]
    with pytest.raises(ChannelGone):
        send(message("webhook", sink.url, secret=generate_secret()))


def test_a_redirect_is_not_followed_and_fails(sink):
    sink.statuses = [301]
    sink.headers = {"Location": "http://169.254.169.254/"}
    with pytest.raises(PermanentDeliveryError, match="redirects are not followed"):
        send(message("webhook", sink.url, secret=generate_secret()))
    assert len(sink.received) == 1


def test_connection_refused_is_retryable(allow_private):
    from notifications.tests.conftest import free_port

    with pytest.raises(RetryableDeliveryError, match="network error"):
        send(message("webhook", f"http://127.0.0.1:{free_port()}/hook", secret=generate_secret()))


def test_slack_posts_text_with_subject(sink):
    send(message("slack", sink.url, config={"username": "opsbot"}))
    body = json.loads(sink.received[0].body)
    assert body["text"].startswith("*Disk almost full*\nDisk /var is 91% full.")
    assert body["username"] == "opsbot"


def test_email_goes_through_django_smtp_backend_to_a_real_server(smtp_server):
    report = send(message("email", "a@example.com, b@example.com"))
    assert "2 recipient" in report.response_excerpt
    envelope = smtp_server.envelopes[0]
    assert envelope.rcpt_tos == ["a@example.com", "b@example.com"]
    content = envelope.content.decode()
    assert "Subject: Disk almost full" in content
    assert "X-OpsConsole-Message-Id: msg_0123456789abcdef" in content
    assert "Message-ID: <msg_0123456789abcdef@" in content  # the same on every retry


def test_email_refused_recipient_fails_permanently(smtp_server):
    with pytest.raises(PermanentDeliveryError, match="refused"):
        send(message("email", "reject@example.com"))


def test_email_with_a_line_break_in_the_subject_fails_permanently_and_sends_nothing(smtp_server):
    bad = dataclasses.replace(message("email", "a@example.com"), subject="Disk full\r\nBcc: everyone@example.com")
    with DeliveryContext() as context:
        with pytest.raises(PermanentDeliveryError, match="message refused"):
            get_backend("email").send(bad, context)
        get_backend("email").send(message("email", "b@example.com"), context)  # the thread's next mail still goes
    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes] == [["b@example.com"]]


def test_email_to_a_server_that_is_down_is_retryable(settings):
    from notifications.tests.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    with pytest.raises(RetryableDeliveryError):
        send(message("email", "a@example.com"))


def test_apprise_delivers_to_a_json_endpoint(httpserver, notify_config, allow_private):
    notify_config(APPRISE_SCHEMES=["json"])
    httpserver.expect_request("/apprise", method="POST").respond_with_data("ok")
    target = f"json://127.0.0.1:{httpserver.port}/apprise"
    backend = get_backend("apprise")
    assert backend.clean_target(target, {}) == target
    send(message("apprise", target))
    request, _ = httpserver.log[0]
    body = json.loads(request.get_data())
    assert body["title"] == "Disk almost full"
    assert body["message"].startswith("Disk /var is 91% full.")


def test_apprise_scheme_outside_the_allowlist_is_refused(notify_config):
    notify_config(APPRISE_SCHEMES=["discord"])
    with pytest.raises(ValueError, match="not allowed"):
        get_backend("apprise").clean_target("json://hooks.example.com/x", {})


def test_apprise_generic_url_to_metadata_is_refused(notify_config, allow_private):
    notify_config(APPRISE_SCHEMES=["json"])
    with pytest.raises(ValueError, match="link-local"):
        get_backend("apprise").clean_target("json://169.254.169.254/latest", {})


@pytest.mark.parametrize(
    "target",
    [
        "mailto://u:p@169.254.169.254",  # the host is the SMTP server
        "mailto://u:p@example.com?smtp=169.254.169.254",  # ?smtp= names the SMTP server
        "mailtos://u:p@example.com?smtp=[64:ff9b::a9fe:a9fe]",
        "ntfys://169.254.169.254/topic",
    ],
)
def test_apprise_servers_at_link_local_addresses_are_refused_for_every_scheme(target, notify_config, allow_private):
    notify_config(APPRISE_SCHEMES=["mailto", "mailtos", "ntfys"])
    with pytest.raises(ValueError, match="link-local"):
        get_backend("apprise").clean_target(target, {})


def test_apprise_smtp_server_at_a_private_address_needs_the_setting(notify_config, settings):
    notify_config(APPRISE_SCHEMES=["mailto"])
    target = "mailto://u:p@example.com?smtp=10.0.0.25"
    with pytest.raises(ValueError, match="private"):
        get_backend("apprise").clean_target(target, {})
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = True
    assert get_backend("apprise").clean_target(target, {}) == target


@pytest.mark.parametrize("target", ["ntfy://alerts-topic", "discord://1234567/webhook-token", "pagerduty://key@intkey"])
def test_apprise_urls_to_the_vendors_own_service_need_no_host_of_their_own(target, notify_config):
    notify_config(APPRISE_SCHEMES=["ntfy", "discord", "pagerduty"])
    assert get_backend("apprise").clean_target(target, {}) == target


def test_apprise_email_is_sent_through_the_smtp_server_the_guard_allowed(smtp_server, notify_config, allow_private):
    notify_config(APPRISE_SCHEMES=["mailto"])
    target = f"mailto://127.0.0.1:{allow_private.EMAIL_PORT}?from=ops@example.com&to=oncall@example.com"
    assert get_backend("apprise").clean_target(target, {}) == target
    send(message("apprise", target))
    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes] == [["oncall@example.com"]]


def test_apprise_delivery_to_an_smtp_server_no_longer_allowed_is_refused_unsent(
    smtp_server, notify_config, allow_private
):
    notify_config(APPRISE_SCHEMES=["mailto"])
    target = f"mailto://u:p@example.com:{allow_private.EMAIL_PORT}?smtp=127.0.0.1&to=oncall@example.com"
    get_backend("apprise").clean_target(target, {})  # accepted while private targets were allowed
    allow_private.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(PermanentDeliveryError, match="private"):
        send(message("apprise", target))
    assert smtp_server.envelopes == []


def test_log_channel_writes_the_message_to_the_log(caplog):
    with caplog.at_level("INFO", logger="notifications.log_channel"):
        send(message("log", "ops"))
    assert "msg_0123456789abcdef" in caplog.text


def test_email_target_with_a_bad_address_is_refused():
    with pytest.raises(ValueError, match="not-an-address"):
        get_backend("email").clean_target("ok@example.com, not-an-address", {})


def test_webhook_target_must_be_https_unless_private_is_allowed(settings):
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ValueError, match="https"):
        get_backend("webhook").clean_target("http://hooks.example.com/x", {})


def test_a_dns_failure_at_delivery_is_retried_not_failed(allow_private, monkeypatch):
    import socket

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(RetryableDeliveryError, match="does not resolve"):
        send(message("webhook", "https://hooks.example.com/x", secret=generate_secret()))


def test_start_up_does_not_import_apprise_or_httpx():
    """They cost ~20 MB per process (web, export workers); they load when a delivery needs them."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    code = (
        "import sys, django; django.setup(); "
        "import notifications.channels, notifications.delivery.dispatcher, exports.services; "
        "print(sorted(m for m in ('apprise', 'httpx') if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "opsconsole.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stderr


def test_apprise_does_not_follow_a_redirect_to_another_server(
    httpserver, threaded_httpserver, notify_config, allow_private
):
    notify_config(APPRISE_SCHEMES=["json"])
    threaded_httpserver.expect_request("/inside").respond_with_data("ok")
    httpserver.expect_request("/apprise").respond_with_data(
        "", status=302, headers={"Location": threaded_httpserver.url_for("/inside")}
    )
    target = f"json://127.0.0.1:{httpserver.port}/apprise"
    get_backend("apprise").clean_target(target, {})
    with pytest.raises(PermanentDeliveryError, match="answered 302 .*redirects are not followed") as refused:
        send(message("apprise", target))
    assert refused.value.http_status == 302
    assert len(httpserver.log) == 1
    assert threaded_httpserver.log == []


def test_requests_outside_an_apprise_delivery_still_follow_redirects(httpserver, threaded_httpserver, notify_config):
    """The guard's hooks stay in the process; they must change nothing for other users of requests."""
    import requests

    from notifications.channels.apprise_guard import install

    install()
    threaded_httpserver.expect_request("/inside").respond_with_data("ok")
    httpserver.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": threaded_httpserver.url_for("/inside")}
    )
    assert requests.get(httpserver.url_for("/start"), timeout=5).text == "ok"


@pytest.fixture
def rebinding_dns(monkeypatch):
    """`rebind.example.test` resolves to a public address once (the check before sending), then to `answer`."""
    import socket

    real_getaddrinfo = socket.getaddrinfo
    answers = {"later": "127.0.0.1", "calls": 0}

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "rebind.example.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        answers["calls"] += 1
        address = "93.184.215.14" if answers["calls"] == 1 else answers["later"]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize(
    ("allow_private", "rebound_to", "reason"),
    [(False, "127.0.0.1", "loopback or private"), (True, "169.254.169.254", "link-local")],
)
def test_apprise_connects_only_to_the_address_it_checked(
    httpserver, settings, notify_config, rebinding_dns, allow_private, rebound_to, reason
):
    """A name that resolves elsewhere when Apprise connects (DNS rebinding) is checked again and refused."""
    notify_config(APPRISE_SCHEMES=["json"])
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = allow_private
    rebinding_dns["later"] = rebound_to
    httpserver.expect_request("/apprise").respond_with_data("ok")
    target = f"json://rebind.example.test:{httpserver.port}/apprise"
    with pytest.raises(PermanentDeliveryError, match=f"target refused: .*{reason}"):
        send(message("apprise", target))
    assert rebinding_dns["calls"] >= 2  # checked before sending, then again when connecting
    assert httpserver.log == []


def test_apprise_email_connects_only_to_the_address_it_checked(smtp_server, notify_config, rebinding_dns, settings):
    notify_config(APPRISE_SCHEMES=["mailto"])
    settings.OPSCONSOLE_WEBHOOK_ALLOW_PRIVATE = False
    target = f"mailto://rebind.example.test:{settings.EMAIL_PORT}?from=ops@example.com&to=oncall@example.com"
    with pytest.raises(PermanentDeliveryError, match="target refused: .*loopback or private"):
        send(message("apprise", target))
    assert smtp_server.envelopes == []


def test_apprise_schemes_that_open_their_own_sockets_are_refused_even_when_listed(notify_config):
    notify_config(APPRISE_SCHEMES=["mqtt", "xmpp"])
    for target in ("mqtt://broker.example.com/alerts", "xmpp://user:pw@chat.example.com"):
        with pytest.raises(ValueError, match="cannot check"):
            get_backend("apprise").clean_target(target, {})
        with pytest.raises(PermanentDeliveryError):
            send(message("apprise", target))
