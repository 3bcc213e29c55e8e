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

from django.db import DatabaseError, InterfaceError, connection
from django.utils import timezone

from maintenance.selectors import is_normal
from notifications.channels import DeliveryContext, get_backend
from notifications.conf import notify_settings
from notifications.delivery import policy
from notifications.delivery.leases import (
    Claim,
    Lease,
    outbox_claim_due_batch,
    outbox_is_due,
    outbox_release,
    outbox_renew_leases,
)
from notifications.delivery.results import DeliveryResult, outbox_record_results
from notifications.exceptions import DeliveryError
from notifications.models import AttemptOutcome
from notifications.ratelimit import next_window_start, rate_limit_take
from opsconsole import shutdown

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
            outcome = result.final_outcome
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
    """Deliver one claimed notification through its channel's backend; never raises.

    What the backend raised becomes the attempt's outcome through the policy
    (policy.attempt_outcome); a bug in a backend must not kill the sweep and leave the
    batch leased until the lease expires, so it is logged with its traceback and retried.
    """
    started_at = timezone.now()
    started = time.perf_counter()
    outcome = AttemptOutcome.SENT
    try:
        report = get_backend(claim.message.channel.channel_type).send(claim.message, context)
        fields = {"http_status": report.http_status, "response_excerpt": report.response_excerpt}
    except Exception as exc:
        if not isinstance(exc, DeliveryError):
            logger.exception(
                "notification %s: unexpected error in the %s backend",
                claim.message.outbox_id,
                claim.message.channel.channel_type,
            )
        outcome, fields = policy.attempt_outcome(exc)
    return DeliveryResult(
        claim=claim,
        started_at=started_at,
        duration_ms=int((time.perf_counter() - started) * 1000),
        outcome=outcome,
        **fields,
    )


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
    return result.final_outcome


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
    the whole batch. Stops claiming as soon as maintenance mode is not normal or the
    process is asked to stop (opsconsole/shutdown.py); rows already claimed are finished.

    At most `concurrency + batch_size` claimed rows are queued or being delivered at a
    time. The next claim is made once half a batch has left that backlog, not when the
    threads run dry, so the threads keep working while this thread writes results and
    claims. The leases of rows in flight are renewed every third of LEASE_SECONDS.

    Whatever ends the sweep (the deadline, a stop request, a soft time limit, SIGTERM's
    SystemExit, a database error), `_Sweep.wind_down` records every finished delivery and
    hands back every claim not yet started, so nothing delivered is sent again and nothing
    waits for a lease to expire.
    """
    summary = DispatchSummary()
    if not is_normal():
        summary.paused_for_maintenance = True
        return summary
    sweep = _Sweep(
        summary,
        concurrency=max(1, int(concurrency or notify_settings.DELIVERY_CONCURRENCY)),
        batch_size=max(1, int(batch_size or notify_settings.CLAIM_BATCH_SIZE)),
        deadline=None if max_seconds is None else time.monotonic() + max_seconds,
    )
    with shutdown.termination_deferred():
        try:
            sweep.run()
        finally:
            sweep.wind_down()
    return summary


class _Sweep:
    """The state of one `notification_dispatch_due` call; its loop in `run`, its ending in `wind_down`."""

    def __init__(self, summary: DispatchSummary, *, concurrency: int, batch_size: int, deadline: float | None):
        self.summary = summary
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.backlog = concurrency + batch_size
        self.deadline = deadline
        self.context = DeliveryContext(max_connections=concurrency)
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="notify-deliver")
        # Finished deliveries, handed over by the threads: one queue instead of wait() on every
        # future in flight, which registers a waiter on each of them for every completion.
        self.done: queue.SimpleQueue[Future[DeliveryResult]] = queue.SimpleQueue()
        self.inflight: dict[Future[DeliveryResult], Claim] = {}
        self.finished: list[DeliveryResult] = []
        self.leases: dict[Lease, int] = {}  # lease -> its claims not yet recorded
        self.stopped = False  # no more claims: the deadline passed, maintenance began, or a stop
        self.next_poll = 0.0  # when nothing was due, look again at this time (while deliveries are in flight)
        self.last_flush = time.monotonic()
        lease_seconds = float(notify_settings.LEASE_SECONDS)
        self.renew_every = lease_seconds / 3
        self.next_renewal = time.monotonic() + self.renew_every

    def run(self) -> None:
        while True:
            now = time.monotonic()
            if not self.stopped and (shutdown.stopping() or (self.deadline is not None and now >= self.deadline)):
                self.stopped = True
            # (With nothing in flight, look at once: either more is due or the sweep is done.)
            room = len(self.inflight) < self.backlog - self.batch_size // 2
            wants_more = not self.stopped and room and (now >= self.next_poll or not self.inflight)
            if wants_more and not self.claim_more(now):
                return  # nothing due and nothing in flight: done
            if not self.inflight:
                if self.stopped:
                    return
                continue
            self.collect(timeout=0.05)
            if self.finished and (
                len(self.finished) >= self.batch_size or not self.inflight or time.monotonic() - self.last_flush > 0.25
            ):
                self.flush()
            if time.monotonic() >= self.next_renewal:
                self.renew()

    def claim_more(self, now: float) -> bool:
        """Claim and submit what is due; False when nothing is due and nothing is in flight."""
        if not is_normal():
            self.summary.paused_for_maintenance = True
            self.stopped = True
            return True
        claims = outbox_claim_due_batch(limit=self.backlog - len(self.inflight))
        if not claims:
            if not self.inflight:
                return False
            # Slow deliveries are in flight: keep the free threads for rows that become due
            # meanwhile (new ones, retries) instead of leaving them to the next sweep.
            self.next_poll = now + IDLE_POLL_SECONDS
            return True
        self.summary.claimed += len(claims)
        allowed, limited = _rate_limited(claims)
        if limited:
            self.summary.rate_limited += len(limited)
            outbox_release(claims=limited, not_before=next_window_start())
        for claim in allowed:
            self.leases[claim.lease] = self.leases.get(claim.lease, 0) + 1
            future = self.pool.submit(attempt_delivery, claim, self.context)
            self.inflight[future] = claim
            future.add_done_callback(self.done.put)
        return True

    def collect(self, *, timeout: float) -> None:
        """Move finished deliveries from the threads to `finished`, waiting up to `timeout` for the first."""
        try:
            future = self.done.get(timeout=timeout)
            while True:
                self._take(future)
                future = self.done.get_nowait()
        except queue.Empty:
            pass

    def _take(self, future: Future[DeliveryResult]) -> None:
        # The result is kept before the future leaves `inflight`: interrupted in between (a
        # soft time limit), `wind_down` still finds it there, done, and `_collect_done` skips
        # what is already in `finished` instead of handing back a row that was delivered.
        if future in self.inflight and not future.cancelled():
            self.finished.append(future.result())
        self.inflight.pop(future, None)

    def _collect_done(self) -> None:
        """Take every finished future still in `inflight`, whether or not it reached the `done` queue."""
        kept = {id(result.claim) for result in self.finished}
        for future in [future for future in self.inflight if future.done()]:
            if id(self.inflight[future]) in kept:
                del self.inflight[future]
            else:
                self._take(future)

    def flush(self) -> None:
        if self.finished:
            outbox_record_results(results=self.finished)
            self.summary.add(self.finished)
            for result in self.finished:
                lease = result.claim.lease
                self.leases[lease] -= 1
                if not self.leases[lease]:
                    del self.leases[lease]
        self.finished = []
        self.last_flush = time.monotonic()

    def renew(self) -> None:
        if self.leases:
            outbox_renew_leases(leases=list(self.leases))
        self.next_renewal = time.monotonic() + self.renew_every

    def wind_down(self) -> None:
        """Stop claiming; hand back claims not started; let running deliveries finish (bounded); record all.

        Runs in `finally`, also while a SystemExit or a soft time limit unwinds the sweep:
        skipping it left every delivered row `sending` until its lease expired, and then
        sent it again.
        """
        self.stopped = True
        not_started = [self.inflight.pop(future) for future in list(self.inflight) if future.cancel()]
        deadline = time.monotonic() + float(notify_settings.STOP_TIMEOUT)
        self._collect_done()
        while self.inflight and time.monotonic() < deadline:
            self.collect(timeout=min(0.1, max(0.0, deadline - time.monotonic())))
            # A future taken off `done` by an interrupted `collect` is done but was never
            # recorded; look at the futures themselves, not only at the queue.
            self._collect_done()
        # Deliveries still running past the bound are handed back too: another worker sends
        # them again (with the same webhook-id) at once instead of after the lease.
        unfinished = not_started + list(self.inflight.values())
        if unfinished:
            logger.info("sweep stopping: %d claimed notification(s) handed back undelivered", len(unfinished))
        _with_database_retries(self.flush)
        if unfinished:
            _with_database_retries(lambda: outbox_release(claims=unfinished))
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.context.close()


DATABASE_RETRIES = (0.2, 0.5, 1.0, 2.0)


def _with_database_retries(write) -> None:
    """Run a write-back, reconnecting through a database blip; log (not raise) if it never lands.

    Rows whose result cannot be written stay `sending` until their lease expires and are
    delivered again (at-least-once, same webhook-id).
    """
    for pause in (*DATABASE_RETRIES, None):
        try:
            write()
            return
        except (DatabaseError, InterfaceError) as exc:
            if pause is None:
                logger.error("sweep could not record its results (%s); they go again once their leases expire", exc)
                return
            logger.warning("sweep write-back failed (%s); reconnecting in %.1f s", exc, pause)
            connection.close()
            time.sleep(pause)
