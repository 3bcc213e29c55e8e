"""When is a notification sent, retried, given up on, or its channel disabled? Here, and only here.

Every answer a delivery can get is ruled on by one function of this module:

- an HTTP status (`http_ruling`): 2xx sent; 410 disables the channel; 408, 429 and 5xx are
  retried, no sooner than the peer's Retry-After; redirects and other 4xx fail;
- an error before any answer (`transport_ruling`): a host that does not resolve (yet), a
  timeout, a network error are retried; a refused target or a request that cannot be sent
  fails;
- a mail server's error (`smtp_ruling`): refused sender or recipients and 5xx replies fail;
  4xx replies and broken sessions are retried;
- Apprise's report (`apprise_ruling`): what the SSRF guard refused decides; a redirect fails;
  any other failed notify is retried.

Backends do the I/O and raise `delivery_error(ruling)`, the typed DeliveryError. The
dispatcher turns the error into the attempt's outcome (`attempt_outcome`), spends the attempt
budget (`final_outcome`), waits `retry_delay` before the next attempt, counts a delivery whose
worker died as a retry too (`lost_delivery`), and pauses a channel after
`pause_threshold()` consecutive failures.
"""

from __future__ import annotations

import email.utils
import random
import smtplib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from notifications.conf import notify_settings
from notifications.exceptions import (
    ChannelGone,
    DeliveryError,
    PermanentDeliveryError,
    RetryableDeliveryError,
    UnresolvableHost,
    UnsafeTarget,
)
from notifications.models import AttemptOutcome

#: A Retry-After longer than a day is a peer's mistake, not a plan: wait a day at most.
RETRY_AFTER_MAX = 86_400.0
LOST_DELIVERY = "The delivering worker stopped before recording a result (its lease expired)."


class Verdict(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAIL = "fail"
    #: Fail, and deactivate the channel: the endpoint said it is gone for good.
    DISABLE = "disable"


@dataclass(frozen=True)
class Ruling:
    verdict: Verdict
    reason: str = ""
    retry_after: float | None = None


SENT = Ruling(Verdict.SENT)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


def http_ruling(status: int, *, retry_after: str | None = None, location: str | None = None) -> Ruling:
    """What an HTTP answer means: 2xx sent; 410 disable; 408/429/5xx retry; other answers fail.

    (README "Delivery guarantees".)
    """
    if 200 <= status < 300:
        return SENT
    reason = f"endpoint answered {status}"
    if status == 410:
        return Ruling(Verdict.DISABLE, f"{reason} Gone")
    if status in (408, 429) or status >= 500:
        return Ruling(Verdict.RETRY, reason, parse_retry_after(retry_after))
    if 300 <= status < 400:
        return Ruling(Verdict.FAIL, f"{reason} (redirect to {location or '?'}); redirects are not followed")
    return Ruling(Verdict.FAIL, reason)


def transport_ruling(exc: BaseException) -> Ruling:
    """What an error before any answer means (the exceptions a guarded HTTP request raises)."""
    if isinstance(exc, UnresolvableHost):  # DNS may answer again later
        return Ruling(Verdict.RETRY, f"network error: {exc}")
    if isinstance(exc, UnsafeTarget):  # a refused address will not change
        return Ruling(Verdict.FAIL, f"target refused: {exc}")
    if isinstance(exc, TimeoutError):
        return Ruling(Verdict.RETRY, f"timeout: {exc.__class__.__name__}")
    if isinstance(exc, ValueError):  # http.client refuses a header it cannot send (a newline, non-latin-1)
        return Ruling(Verdict.FAIL, f"request refused: {exc}")
    return Ruling(Verdict.RETRY, f"network error: {exc.__class__.__name__}: {exc}")


def smtp_ruling(exc: BaseException) -> Ruling:
    """What a mail error means: refusals and 5xx replies fail; 4xx replies and broken sessions retry."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
        return Ruling(Verdict.FAIL, f"mail server refused: {exc}")
    if isinstance(exc, smtplib.SMTPResponseException):
        verdict = Verdict.FAIL if 500 <= exc.smtp_code < 600 else Verdict.RETRY
        return Ruling(verdict, f"mail server answered {exc.smtp_code}: {exc.smtp_error!r}")
    if isinstance(exc, ValueError):
        # BadHeaderError (a CR/LF in the subject of a row queued before enqueue refused them)
        # or another header or address that cannot be sent: retrying cannot help.
        return Ruling(Verdict.FAIL, f"message refused: {exc}")
    return Ruling(Verdict.RETRY, f"mail error: {exc.__class__.__name__}: {exc}")


def apprise_ruling(
    *, ok: bool, refusal: BaseException | None = None, redirect_status: int | None = None, location: str | None = None
) -> Ruling:
    """What Apprise's notify() means: what the SSRF guard refused is the cause, whatever the plugin made of it."""
    if refusal is not None:
        return transport_ruling(refusal)
    if redirect_status is not None:
        return http_ruling(redirect_status, location=location)
    if not ok:
        return Ruling(Verdict.RETRY, "Apprise reported a failed delivery")
    return SENT


def delivery_error(ruling: Ruling, *, http_status: int | None = None, response_excerpt: str = "") -> DeliveryError:
    """The typed error a backend raises for a ruling other than sent."""
    fields = {"http_status": http_status, "response_excerpt": response_excerpt}
    if ruling.verdict == Verdict.RETRY:
        return RetryableDeliveryError(ruling.reason, retry_after=ruling.retry_after, **fields)
    if ruling.verdict == Verdict.DISABLE:
        return ChannelGone(ruling.reason, **fields)
    if ruling.verdict == Verdict.FAIL:
        return PermanentDeliveryError(ruling.reason, **fields)
    raise ValueError("a delivery that was sent raises nothing")


def attempt_outcome(exc: Exception) -> tuple[str, dict]:
    """The attempt's outcome for what a backend raised, and the fields the attempt records.

    Anything but a DeliveryError is a bug in a backend: retried like a network error, so a
    bug never loses a notification nor kills the sweep.
    """
    if not isinstance(exc, DeliveryError):
        return AttemptOutcome.RETRY, {"error": f"internal error: {exc.__class__.__name__}: {exc}"}
    fields = {"error": exc.error, "http_status": exc.http_status, "response_excerpt": exc.response_excerpt}
    if isinstance(exc, ChannelGone):
        return AttemptOutcome.FAILED, fields | {"channel_gone": True, "permanent": True}
    if isinstance(exc, PermanentDeliveryError):
        return AttemptOutcome.FAILED, fields | {"permanent": True}
    if isinstance(exc, RetryableDeliveryError):
        return AttemptOutcome.RETRY, fields | {"retry_after": exc.retry_after}
    return AttemptOutcome.RETRY, fields


def retry_delay(*, attempt_in_round: int, retry_after: float | None = None) -> float:
    """Seconds until the next attempt: exponential backoff with full jitter, at least Retry-After.

    The ceiling doubles from BACKOFF_BASE each attempt up to BACKOFF_MAX, and the delay is
    drawn uniformly from half of BACKOFF_BASE up to that ceiling. Full jitter (AWS's
    "Exponential Backoff and Jitter") spreads the retries of many notifications that failed
    together, the first ones too; the floor keeps a retry from ever being immediate.
    """
    base = float(notify_settings.BACKOFF_BASE)
    cap = float(notify_settings.BACKOFF_MAX)
    ceiling = min(cap, base * (2 ** max(0, attempt_in_round - 1)))
    delay = random.uniform(min(base / 2, ceiling), ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_MAX))
    return delay


def attempts_in_round(*, attempt_number: int, retry_base: int) -> int:
    """Attempts counted against max_attempts: those since the last manual retry or replay (`retry_base`)."""
    return attempt_number - retry_base


def final_outcome(*, outcome: str, attempt_number: int, retry_base: int, max_attempts: int) -> str:
    """The attempt's outcome after the attempt budget: a retry past max_attempts is a failure."""
    spent = attempts_in_round(attempt_number=attempt_number, retry_base=retry_base) >= max_attempts
    return AttemptOutcome.FAILED if outcome == AttemptOutcome.RETRY and spent else outcome


def gave_up(error: str, max_attempts: int) -> str:
    """The error a notification keeps when its budget ran out on a retryable error."""
    return f"{error} (gave up after {max_attempts} attempts)"


def lost_delivery(*, attempts: int, retry_base: int, max_attempts: int) -> tuple[str, str]:
    """A delivery whose lease expired counts as a failed attempt: (outcome, error) of that attempt.

    Otherwise a message that kills its worker every time (or hangs it past the lease) would
    be reclaimed forever without its attempts ever growing.
    """
    outcome = final_outcome(
        outcome=AttemptOutcome.RETRY, attempt_number=attempts + 1, retry_base=retry_base, max_attempts=max_attempts
    )
    if outcome == AttemptOutcome.FAILED:
        return outcome, gave_up(LOST_DELIVERY, max_attempts)
    return outcome, LOST_DELIVERY


def pause_threshold() -> int | None:
    """Consecutive failed deliveries after which a channel is paused (None: never)."""
    threshold = int(notify_settings.PAUSE_AFTER_FAILURES)
    return threshold if threshold > 0 else None


def pause_reason(threshold: int, last_error: str) -> str:
    return f"Paused after {threshold} consecutive failed deliveries; last error: {last_error}"


def gone_reason(now: datetime) -> str:
    return f"Deactivated at {now:%Y-%m-%d %H:%M:%S}Z: the endpoint answered 410 Gone."
