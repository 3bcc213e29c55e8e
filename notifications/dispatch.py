"""The delivery engine: claim due notifications, deliver them concurrently, record every attempt.

Doors lead here: `notification_dispatch_from` (the Celery task sent on commit, which runs
a pooled sweep while its notification is still due), `notification_dispatch_due` (the
sweep: beat every few seconds, and `manage.py dispatch_notifications`) and
`notification_deliver` (one notification alone: the send-test command). All claim rows
through the same lease, so a row is delivered by whichever gets it first and never by
two at once.

Only the network calls run in the thread pool; claims and results are written by the
calling thread in batches. That keeps database work out of the threads (no connection
per thread, and batched writes instead of one transaction per delivery).
"""

from __future__ import annotations

import logging
import queue
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from django.utils import timezone

from maintenance.selectors import is_normal
from notifications.channels import DeliveryContext, get_backend
from notifications.conf import notify_settings
from notifications.exceptions import ChannelGone, PermanentDeliveryError, RetryableDeliveryError
from notifications.models import AttemptOutcome
from notifications.ratelimit import next_window_start, rate_limit_take
from notifications.services import (
    Claim,
    DeliveryResult,
    final_outcome,
    outbox_claim_due_batch,
    outbox_is_due,
    outbox_record_results,
    outbox_release,
)

logger = logging.getLogger(__name__)


@dataclass
class DispatchSummary:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    rate_limited: int = 0
    paused_for_maintenance: bool = False

    def add(self, results: list[DeliveryResult]) -> None:
        for result in results:
            outcome = final_outcome(result)
            if outcome == AttemptOutcome.SENT:
                self.sent += 1
            elif outcome == AttemptOutcome.RETRY:
                self.retried += 1
            else:
                self.failed += 1

    def __str__(self) -> str:
        text = (
            f"claimed {self.claimed}, sent {self.sent}, retrying {self.retried}, failed {self.failed}, "
            f"rate-limited {self.rate_limited}"
        )
        if self.paused_for_maintenance:
            text += " (paused: maintenance mode is not normal)"
        return text


def attempt_delivery(claim: Claim, context: DeliveryContext) -> DeliveryResult:
    """Deliver one claimed notification through its channel's backend; never raises."""
    started_at = timezone.now()
    started = time.perf_counter()
    outcome = AttemptOutcome.SENT
    fields: dict = {}
    try:
        report = get_backend(claim.message.channel.channel_type).send(claim.message, context)
        fields = {"http_status": report.http_status, "response_excerpt": report.response_excerpt}
    except ChannelGone as exc:
        outcome = AttemptOutcome.FAILED
        fields = _error_fields(exc) | {"channel_gone": True, "permanent": True}
    except PermanentDeliveryError as exc:
        outcome = AttemptOutcome.FAILED
        fields = _error_fields(exc) | {"permanent": True}
    except RetryableDeliveryError as exc:
        outcome = AttemptOutcome.RETRY
        fields = _error_fields(exc) | {"retry_after": exc.retry_after}
    except Exception as exc:
        # A bug in a backend must not kill the sweep and leave the batch leased until the
        # lease expires; it is logged with its traceback and retried like a network error.
        logger.exception(
            "notification %s: unexpected error in the %s backend",
            claim.message.outbox_id,
            claim.message.channel.channel_type,
        )
        outcome = AttemptOutcome.RETRY
        fields = {"error": f"internal error: {exc.__class__.__name__}: {exc}"}
    return DeliveryResult(
        claim=claim,
        started_at=started_at,
        duration_ms=int((time.perf_counter() - started) * 1000),
        outcome=outcome,
        **fields,
    )


def _error_fields(exc) -> dict:
    return {"error": exc.error, "http_status": exc.http_status, "response_excerpt": exc.response_excerpt}


def _rate_limited(claims: list[Claim]) -> tuple[list[Claim], list[Claim]]:
    allowed, limited = [], []
    for claim in claims:
        if rate_limit_take(channel_id=claim.message.channel.id, per_minute=claim.rate_limit_per_minute):
            allowed.append(claim)
        else:
            limited.append(claim)
    return allowed, limited


def notification_deliver(*, outbox_id: int) -> str | None:
    """Deliver one notification now if it is due and no one else holds it; return the outcome.

    Safe to run twice: the second run finds the row claimed or finished and does nothing.
    """
    if not is_normal():
        return None  # the sweep delivers it after maintenance
    claims = outbox_claim_due_batch(limit=1, outbox_ids=[outbox_id])
    if not claims:
        return None
    allowed, limited = _rate_limited(claims)
    if limited:
        outbox_release(claims=limited, not_before=next_window_start())
        return "rate_limited"
    with DeliveryContext(max_connections=1) as context:
        result = attempt_delivery(allowed[0], context)
    outbox_record_results(results=[result])
    return final_outcome(result)


IDLE_POLL_SECONDS = 0.5


def notification_dispatch_from(*, outbox_id: int, max_seconds: float | None = None) -> DispatchSummary | None:
    """The task sent on commit: if the notification is still due, run a pooled sweep that
    delivers it together with whatever else is due.

    Delivering it alone in the task would hold the worker process for as long as the
    endpoint takes (up to the HTTP timeout), so a few slow endpoints would stall every
    other delivery and the beat sweeps queued behind them. A row already taken by a
    running sweep costs one query here.
    """
    if not outbox_is_due(outbox_id=outbox_id):
        return None
    return notification_dispatch_due(max_seconds=max_seconds)


def notification_dispatch_due(
    *, max_seconds: float | None = None, concurrency: int | None = None, batch_size: int | None = None
) -> DispatchSummary:
    """Deliver every due notification (until none is left or `max_seconds` pass) with a bounded thread pool.

    Claims are topped up as deliveries finish, so one slow endpoint holds one thread, not
    the whole batch. Stops claiming as soon as maintenance mode is not normal; rows
    already claimed are finished.

    At most `concurrency + batch_size` claimed rows are queued or being delivered at a
    time (what the lease must outlast: a full backlog ahead of a delivery). The next claim
    is made once half a batch has left that backlog, not when the threads run dry, so the
    threads keep working while this thread writes results and claims.
    """
    summary = DispatchSummary()
    if not is_normal():
        summary.paused_for_maintenance = True
        return summary
    concurrency = max(1, int(concurrency or notify_settings.DELIVERY_CONCURRENCY))
    batch_size = max(1, int(batch_size or notify_settings.CLAIM_BATCH_SIZE))
    backlog = concurrency + batch_size
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    inflight = 0
    # Finished deliveries, handed over by the threads: one queue instead of wait() on every
    # future in flight, which registers a waiter on each of them for every completion.
    done: queue.SimpleQueue[Future[DeliveryResult]] = queue.SimpleQueue()
    finished: list[DeliveryResult] = []
    stopped = False  # no more claims: the deadline passed or maintenance began
    next_poll = 0.0  # when nothing was due, look again at this time (while deliveries are in flight)
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal finished, last_flush
        if finished:
            outbox_record_results(results=finished)
            summary.add(finished)
        finished = []
        last_flush = time.monotonic()

    with (
        DeliveryContext(max_connections=concurrency) as context,
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="notify-deliver") as pool,
    ):
        while True:
            now = time.monotonic()
            if not stopped and deadline is not None and now >= deadline:
                stopped = True
            # (With nothing in flight, look at once: either more is due or the sweep is done.)
            if not stopped and inflight < backlog - batch_size // 2 and (now >= next_poll or not inflight):
                if not is_normal():
                    summary.paused_for_maintenance = True
                    stopped = True
                else:
                    claims = outbox_claim_due_batch(limit=backlog - inflight)
                    if not claims:
                        if not inflight:
                            break  # nothing due and nothing in flight: done
                        # Slow deliveries are in flight: keep the free threads for rows that
                        # become due meanwhile (new ones, retries) instead of leaving them to
                        # the next sweep.
                        next_poll = now + IDLE_POLL_SECONDS
                    summary.claimed += len(claims)
                    allowed, limited = _rate_limited(claims)
                    if limited:
                        summary.rate_limited += len(limited)
                        outbox_release(claims=limited, not_before=next_window_start())
                    for claim in allowed:
                        pool.submit(attempt_delivery, claim, context).add_done_callback(done.put)
                        inflight += 1
            if not inflight:
                if stopped:
                    break
                continue
            try:
                future = done.get(timeout=0.05)
                while True:
                    finished.append(future.result())
                    inflight -= 1
                    future = done.get_nowait()
            except queue.Empty:
                pass
            if finished and (len(finished) >= batch_size or not inflight or time.monotonic() - last_flush > 0.25):
                flush()
        flush()
    return summary
