"""Recording what deliveries did: the attempt log, the notification's next state, the channel's health.

Every decision comes from notifications/delivery/policy.py; this module writes it down,
and only for rows still under the lease of the claim that delivered them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.delivery import policy
from notifications.delivery.leases import Claim
from notifications.metrics import deliveries_count
from notifications.models import (
    AttemptOutcome,
    NotificationAttempt,
    NotificationChannel,
    NotificationOutbox,
    NotificationStatus,
)

logger = logging.getLogger(__name__)


@dataclass
class DeliveryResult:
    claim: Claim
    started_at: datetime
    duration_ms: int
    outcome: str
    http_status: int | None = None
    error: str = ""
    response_excerpt: str = ""
    retry_after: float | None = None
    channel_gone: bool = False
    permanent: bool = False

    @property
    def final_outcome(self) -> str:
        """The outcome after the attempt budget (policy.final_outcome): a retry past max_attempts fails."""
        return policy.final_outcome(
            outcome=self.outcome,
            attempt_number=self.claim.message.attempt_number,
            retry_base=self.claim.retry_base,
            max_attempts=self.claim.max_attempts,
        )

    @property
    def final_error(self) -> str:
        if self.final_outcome == AttemptOutcome.FAILED and self.outcome == AttemptOutcome.RETRY:
            return policy.gave_up(self.error, self.claim.max_attempts)
        return self.error


@transaction.atomic
def outbox_record_results(*, results: list[DeliveryResult]) -> None:
    """Write the attempts of a set of deliveries and move each notification and channel on.

    Sent rows are finished in one UPDATE per lease; retries and failures need a row each.
    A row is only moved while it is still `sending` under this claim's lease: a worker
    whose lease expired and whose row was claimed again records nothing (no attempt, no
    channel health), so the new holder's result is the one that counts.
    """
    if not results:
        return
    now = timezone.now()
    landed: list[DeliveryResult] = []
    attempts = []
    sent: dict[datetime, list[DeliveryResult]] = defaultdict(list)
    for result in results:
        if result.final_outcome == AttemptOutcome.SENT:
            sent[result.claim.lease_until].append(result)
        elif _move_unsent(result, now):
            landed.append(result)
            attempts.append(_attempt_row(result, result.final_outcome, result.final_error))
        else:
            _log_stale(result)
    for lease_until, lease_results in sent.items():
        for result in _finish_sent(lease_until, lease_results, now):
            landed.append(result)
            attempts.append(_attempt_row(result, AttemptOutcome.SENT, result.error))
    NotificationAttempt.objects.bulk_create(attempts)
    _record_channel_health(landed, now)
    # Last, so the counter rows (shared by every worker) are locked only until the commit.
    deliveries_count(
        (result.claim.message.channel.channel_type, result.final_outcome, result.duration_ms / 1000)
        for result in landed
    )


def _move_unsent(result: DeliveryResult, now: datetime) -> bool:
    """Put a row that was not delivered back in the queue after its backoff, or fail it; False if no longer ours."""
    changes = {"attempts": F("attempts") + 1, "last_error": result.final_error, "locked_until": None, "updated_at": now}
    if result.final_outcome == AttemptOutcome.RETRY:
        delay = policy.retry_delay(
            attempt_in_round=policy.attempts_in_round(
                attempt_number=result.claim.message.attempt_number, retry_base=result.claim.retry_base
            ),
            retry_after=result.retry_after,
        )
        changes |= {"status": NotificationStatus.PENDING, "next_attempt_at": now + timedelta(seconds=delay)}
    else:
        changes |= {"status": NotificationStatus.FAILED, "next_attempt_at": None}
    return bool(_still_leased(result.claim).update(**changes))


def _still_leased(claim: Claim):
    """The claim's row while it is still `sending` under this claim's lease (locked_until is the lease's stamp)."""
    return NotificationOutbox.objects.filter(
        pk=claim.message.outbox_id, status=NotificationStatus.SENDING, locked_until=claim.lease_until
    )


def _finish_sent(lease_until: datetime, results: list[DeliveryResult], now: datetime) -> list[DeliveryResult]:
    """Mark the rows of one lease sent; return the results whose row still carried the lease."""
    finished = {
        "status": NotificationStatus.SENT,
        "attempts": F("attempts") + 1,
        "sent_at": now,
        "last_error": None,
        "next_attempt_at": None,
        "locked_until": None,
        "updated_at": now,
    }
    ids = [result.claim.message.outbox_id for result in results]
    # The hot path is one UPDATE; only when some row was claimed again since (its lease
    # expired) is it undone and redone row by row, to learn which rows are still ours.
    savepoint = transaction.savepoint()
    moved = NotificationOutbox.objects.filter(
        pk__in=ids, status=NotificationStatus.SENDING, locked_until=lease_until
    ).update(**finished)
    if moved == len(ids):
        transaction.savepoint_commit(savepoint)
        return results
    transaction.savepoint_rollback(savepoint)
    landed = []
    for result in results:
        if _still_leased(result.claim).update(**finished):
            landed.append(result)
        else:
            _log_stale(result)
    return landed


def _attempt_row(result: DeliveryResult, outcome: str, error: str) -> NotificationAttempt:
    return NotificationAttempt(
        outbox_id=result.claim.message.outbox_id,
        number=result.claim.message.attempt_number,
        started_at=result.started_at,
        duration_ms=result.duration_ms,
        outcome=outcome,
        http_status=result.http_status,
        error=error,
        response_excerpt=result.response_excerpt[:1024],
    )


def _log_stale(result: DeliveryResult) -> None:
    logger.warning(
        "stale result of notification %s (attempt %s, %s) not recorded: its lease until %s expired "
        "and the row was claimed again or changed",
        result.claim.message.outbox_id,
        result.claim.message.attempt_number,
        result.outcome,
        result.claim.lease_until.isoformat(),
    )


def _record_channel_health(results: list[DeliveryResult], now: datetime) -> None:
    """Move each channel's health on by its deliveries in order: successes reset it, failures count."""
    per_channel: dict[int, list[DeliveryResult]] = defaultdict(list)
    for result in results:
        per_channel[result.claim.message.channel.id].append(result)
    for channel_id, channel_results in per_channel.items():
        channel_results.sort(key=lambda r: r.started_at)
        last_success = max((i for i, r in enumerate(channel_results) if r.outcome == AttemptOutcome.SENT), default=-1)
        trailing_failures = channel_results[last_success + 1 :]
        channel = NotificationChannel.objects.filter(pk=channel_id)
        if last_success >= 0 and not trailing_failures:
            # The hot path: skip the write (and its row lock, which every delivery thread
            # would queue on) while the health fields are already right to the second.
            channel.filter(
                Q(consecutive_failures__gt=0)
                | Q(last_success_at__isnull=True)
                | Q(last_success_at__lt=now - timedelta(seconds=1))
            ).update(consecutive_failures=0, last_success_at=now)
            continue
        _record_failures(channel, trailing_failures, succeeded_before=last_success >= 0, now=now)


def _record_failures(channel, failures: list[DeliveryResult], *, succeeded_before: bool, now: datetime) -> None:
    """Count a channel's trailing failures; disable it on 410 Gone, pause it past the policy's threshold."""
    last_error = failures[-1].error
    if succeeded_before:
        channel.update(
            consecutive_failures=len(failures), last_success_at=now, last_failure_at=now, last_error=last_error
        )
    else:
        channel.update(
            consecutive_failures=F("consecutive_failures") + len(failures), last_failure_at=now, last_error=last_error
        )
    if any(r.channel_gone for r in failures):
        channel.update(active=False, disabled_reason=policy.gone_reason(now), updated_at=now)
    threshold = policy.pause_threshold()
    if threshold is not None:
        channel.filter(consecutive_failures__gte=threshold, paused=False).update(
            paused=True, disabled_reason=policy.pause_reason(threshold, last_error), updated_at=now
        )
