"""The delivery policy, table by table: every answer → what happens to the notification."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime

import pytest

from notifications.delivery import policy
from notifications.delivery.policy import Verdict
from notifications.exceptions import (
    ChannelGone,
    PermanentDeliveryError,
    RetryableDeliveryError,
    UnresolvableHost,
    UnsafeTarget,
)
from notifications.models import AttemptOutcome

SENT, RETRY, FAIL, DISABLE = Verdict.SENT, Verdict.RETRY, Verdict.FAIL, Verdict.DISABLE


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, SENT),
        (202, SENT),
        (204, SENT),
        (299, SENT),
        (301, FAIL),
        (307, FAIL),
        (400, FAIL),
        (401, FAIL),
        (403, FAIL),
        (404, FAIL),
        (408, RETRY),
        (409, FAIL),
        (410, DISABLE),
        (413, FAIL),
        (422, FAIL),
        (429, RETRY),
        (500, RETRY),
        (502, RETRY),
        (503, RETRY),
        (504, RETRY),
    ],
)
def test_http_answers(status, verdict):
    assert policy.http_ruling(status).verdict == verdict


@pytest.mark.parametrize(
    ("status", "header", "retry_after"),
    [
        (429, "120", 120.0),
        (503, "7", 7.0),
        (503, None, None),
        (503, "soon", None),
        (503, "Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date in the past: no wait
        (400, "120", None),  # only a retried answer carries a wait
    ],
)
def test_retry_after_is_read_from_retried_answers(status, header, retry_after):
    assert policy.http_ruling(status, retry_after=header).retry_after == retry_after


def test_a_redirect_fails_naming_where_it_pointed():
    ruling = policy.http_ruling(302, location="https://elsewhere.example/")
    assert ruling.verdict == FAIL
    assert ruling.reason == (
        "endpoint answered 302 (redirect to https://elsewhere.example/); redirects are not followed"
    )


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (UnresolvableHost("no such host"), RETRY),  # DNS may answer again later
        (UnsafeTarget("10.0.0.1 is private"), FAIL),
        (TimeoutError(), RETRY),
        (TimeoutError(), RETRY),
        (ConnectionRefusedError(), RETRY),
        (ConnectionResetError(), RETRY),
        (OSError("network is unreachable"), RETRY),
        (ValueError("Invalid header value"), FAIL),
    ],
)
def test_errors_before_any_answer(error, verdict):
    assert policy.transport_ruling(error).verdict == verdict


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no such user")}), FAIL),
        (smtplib.SMTPSenderRefused(553, b"sender refused", "ops@example.com"), FAIL),
        (smtplib.SMTPDataError(554, b"rejected"), FAIL),
        (smtplib.SMTPResponseException(550, b"mailbox unavailable"), FAIL),
        (smtplib.SMTPDataError(451, b"try again later"), RETRY),
        (smtplib.SMTPResponseException(421, b"service not available"), RETRY),
        (smtplib.SMTPServerDisconnected("gone"), RETRY),
        (smtplib.SMTPConnectError(421, b"busy"), RETRY),
        (ConnectionRefusedError(), RETRY),
        (ValueError("Header values can't contain newlines"), FAIL),
    ],
)
def test_mail_errors(error, verdict):
    assert policy.smtp_ruling(error).verdict == verdict


@pytest.mark.parametrize(
    ("report", "verdict"),
    [
        ({"ok": True}, SENT),
        ({"ok": False}, RETRY),
        ({"ok": False, "refusal": UnresolvableHost("no such host")}, RETRY),
        ({"ok": True, "refusal": UnsafeTarget("127.0.0.1 is loopback")}, FAIL),  # the guard's word wins
        ({"ok": False, "redirect_status": 302, "location": "https://x.example/"}, FAIL),
    ],
)
def test_apprise_reports(report, verdict):
    assert policy.apprise_ruling(**report).verdict == verdict


@pytest.mark.parametrize(
    ("ruling", "error_class"),
    [
        (policy.Ruling(RETRY, "endpoint answered 503", 30.0), RetryableDeliveryError),
        (policy.Ruling(FAIL, "endpoint answered 400"), PermanentDeliveryError),
        (policy.Ruling(DISABLE, "endpoint answered 410 Gone"), ChannelGone),
    ],
)
def test_backends_raise_the_typed_error_of_a_ruling(ruling, error_class):
    error = policy.delivery_error(ruling, http_status=503, response_excerpt="busy")
    assert type(error) is error_class
    assert (error.error, error.http_status, error.response_excerpt) == (ruling.reason, 503, "busy")
    assert getattr(error, "retry_after", None) == ruling.retry_after
    with pytest.raises(ValueError):
        policy.delivery_error(policy.SENT)


@pytest.mark.parametrize(
    ("error", "outcome", "marks"),
    [
        (RetryableDeliveryError("503", retry_after=9.0), AttemptOutcome.RETRY, {"retry_after": 9.0}),
        (PermanentDeliveryError("400"), AttemptOutcome.FAILED, {"permanent": True}),
        (ChannelGone("410"), AttemptOutcome.FAILED, {"permanent": True, "channel_gone": True}),
        (KeyError("bug in a backend"), AttemptOutcome.RETRY, {}),
    ],
)
def test_what_an_attempt_records_for_each_error(error, outcome, marks):
    got, fields = policy.attempt_outcome(error)
    assert got == outcome
    assert {key: fields[key] for key in marks} == marks
    for flag in ("permanent", "channel_gone"):  # a flag not in the row's marks is not set
        assert fields.get(flag, False) == marks.get(flag, False)


@pytest.mark.parametrize(
    ("outcome", "attempt_number", "retry_base", "max_attempts", "final"),
    [
        (AttemptOutcome.RETRY, 1, 0, 3, AttemptOutcome.RETRY),
        (AttemptOutcome.RETRY, 2, 0, 3, AttemptOutcome.RETRY),
        (AttemptOutcome.RETRY, 3, 0, 3, AttemptOutcome.FAILED),  # the budget is spent
        (AttemptOutcome.RETRY, 4, 3, 3, AttemptOutcome.RETRY),  # a manual retry starts a new round
        (AttemptOutcome.RETRY, 6, 3, 3, AttemptOutcome.FAILED),
        (AttemptOutcome.RETRY, 1, 0, 1, AttemptOutcome.FAILED),
        (AttemptOutcome.SENT, 3, 0, 3, AttemptOutcome.SENT),
        (AttemptOutcome.FAILED, 1, 0, 3, AttemptOutcome.FAILED),
    ],
)
def test_the_attempt_budget(outcome, attempt_number, retry_base, max_attempts, final):
    assert (
        policy.final_outcome(
            outcome=outcome, attempt_number=attempt_number, retry_base=retry_base, max_attempts=max_attempts
        )
        == final
    )


@pytest.mark.parametrize(
    ("attempts", "retry_base", "max_attempts", "outcome", "gave_up"),
    [
        (0, 0, 3, AttemptOutcome.RETRY, False),
        (1, 0, 3, AttemptOutcome.RETRY, False),
        (2, 0, 3, AttemptOutcome.FAILED, True),
        (3, 3, 3, AttemptOutcome.RETRY, False),
        (0, 0, 1, AttemptOutcome.FAILED, True),
    ],
)
def test_a_lost_delivery_counts_as_an_attempt(attempts, retry_base, max_attempts, outcome, gave_up):
    got, error = policy.lost_delivery(attempts=attempts, retry_base=retry_base, max_attempts=max_attempts)
    assert got == outcome
    assert error.startswith(policy.LOST_DELIVERY)
    assert ("gave up after" in error) is gave_up


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 2.5, 5.0), (2, 2.5, 10.0), (3, 2.5, 20.0), (12, 2.5, 3600.0), (40, 2.5, 3600.0)],
)
def test_backoff_stays_between_half_the_base_and_the_doubling_ceiling(notify_config, attempt, low, high):
    notify_config(BACKOFF_BASE=5.0, BACKOFF_MAX=3600.0)
    delays = [policy.retry_delay(attempt_in_round=attempt) for _ in range(100)]
    assert all(low <= delay <= high for delay in delays)


@pytest.mark.parametrize(
    ("retry_after", "at_least"),
    [(120.0, 120.0), (0.0, 2.5), (10 * 86_400.0, 86_400.0)],
)
def test_backoff_honours_retry_after_up_to_a_day(notify_config, retry_after, at_least):
    notify_config(BACKOFF_BASE=5.0, BACKOFF_MAX=60.0)
    delay = policy.retry_delay(attempt_in_round=1, retry_after=retry_after)
    assert at_least <= delay <= max(at_least, 5.0)


@pytest.mark.parametrize(("setting", "threshold"), [(20, 20), (1, 1), (0, None), (-1, None)])
def test_the_pause_threshold(notify_config, setting, threshold):
    notify_config(PAUSE_AFTER_FAILURES=setting)
    assert policy.pause_threshold() == threshold


def test_the_reasons_a_channel_shows():
    assert policy.pause_reason(20, "endpoint answered 500") == (
        "Paused after 20 consecutive failed deliveries; last error: endpoint answered 500"
    )
    assert policy.gone_reason(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "Deactivated at 2026-01-02 03:04:05Z: the endpoint answered 410 Gone."
    )
