"""The purge engine: carry out queued runs under the purge lock, batch by batch.

It deletes in keyset batches on the primary key (retention/services/statements.py): it
finds the id that ends the next `batch_size` expired rows, then deletes that id range
(with the date condition again) in one short transaction. Dependent rows and files go in
the category's `before_delete_batch` hook, in the same batch. Each batch commits on its
own, so an interrupted purge has lost nothing and a rerun continues.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, DatabaseError, transaction
from django.utils import timezone

from maintenance.selectors import current_mode, is_normal
from retention.conf import retention_settings
from retention.exceptions import InvalidRetentionRequest, MaintenanceModeActive, PurgeLocked
from retention.locks import PurgeLockBackend, purge_lock
from retention.metrics import purge_rows_count
from retention.models import DataRetentionPolicy, PurgeRun, PurgeStatus
from retention.registry import RetentionCategory, registry
from retention.selectors import purge_skip_reason
from retention.services.interrupted import purge_runs_fail_running
from retention.services.runs import PurgeResult, purge_runs_finish
from retention.services.statements import asynchronous_commits, batch_rows, batch_statements

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[PurgeRun], None]

# How often a running purge looks at the maintenance mode between batches.
MODE_CHECK_SECONDS = 1.0


@dataclass
class _Pace:
    """How one purge goes: rows per batch, when its time budget ends, whom to tell after each step."""

    batch_size: int
    deadline: float | None
    progress: ProgressCallback | None
    lock: PurgeLockBackend | None = None

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def report(self, run: PurgeRun) -> None:
        if self.progress:
            self.progress(run)


def purge_execute(
    *,
    run_ids: list[int],
    batch_size: int | None = None,
    max_seconds: float | None = None,
    progress: ProgressCallback | None = None,
) -> PurgeResult:
    """Carry out queued purge runs under the purge lock, in batches, within the time budget.

    Raises MaintenanceModeActive or PurgeLocked (and marks the runs refused) when it may
    not start. Runs already finished are left alone, so running twice is safe; a run left
    'running' by a process that died is carried out again (holding the lock proves that
    nobody else is running it).
    """
    batch_size = int(batch_size or retention_settings.BATCH_SIZE)
    if batch_size < 1:
        raise InvalidRetentionRequest(fields={"batch_size": ["Must be at least 1."]})
    budget = float(retention_settings.MAX_SECONDS if max_seconds is None else max_seconds)
    pace = _Pace(batch_size, time.monotonic() + budget if budget > 0 else None, progress)
    todo = list(PurgeRun.objects.filter(pk__in=run_ids, status__in=PurgeStatus.open()).order_by("pk"))
    result = PurgeResult()
    if not todo:
        return result
    if not is_normal():
        # Not @writes_guarded: MaintenanceModeActive (a 409, exit code 3) is the purge's
        # contract, and the runs are recorded as refused, not left queued.
        refusal = MaintenanceModeActive(current_mode())
        purge_runs_finish(todo, status=PurgeStatus.REFUSED, error=refusal.detail, only_if=[PurgeStatus.QUEUED])
        result.runs = todo
        raise refusal
    try:
        with purge_lock() as lock:
            pace.lock = lock
            purge_runs_fail_running(exclude=[run.pk for run in todo])
            for run in todo:
                _claim_and_execute(run, pace=pace, result=result)
    except BaseException as exc:
        _finish_not_started(todo, result, exc)
        raise
    return result


def _claim_and_execute(run: PurgeRun, *, pace: _Pace, result: PurgeResult) -> None:
    if result.stopped_by_mode:
        refusal = MaintenanceModeActive(result.stopped_by_mode)
        purge_runs_finish([run], status=PurgeStatus.REFUSED, error=refusal.detail, only_if=PurgeStatus.open())
        result.runs.append(run)
        return
    claimed = PurgeRun.objects.filter(pk=run.pk, status__in=PurgeStatus.open()).update(
        status=PurgeStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return
    run.refresh_from_db()
    result.runs.append(run)
    _execute_run(run, pace=pace, result=result)


def _finish_not_started(todo: list[PurgeRun], result: PurgeResult, exc: BaseException) -> None:
    """Runs never started must not stay queued: refused when another purge holds the lock,
    failed when this process was interrupted or broke. A 'running' run here belongs to the
    lock's holder, so it is not touched."""
    leftovers = [run for run in todo if run not in result.runs]
    if isinstance(exc, PurgeLocked):
        purge_runs_finish(leftovers, status=PurgeStatus.REFUSED, error=exc.detail, only_if=[PurgeStatus.QUEUED])
    else:
        error = f"Not started: {type(exc).__name__} {exc}".strip()
        purge_runs_finish(leftovers, status=PurgeStatus.FAILED, error=error, only_if=[PurgeStatus.QUEUED])


def _execute_run(run: PurgeRun, *, pace: _Pace, result: PurgeResult) -> None:
    policy = DataRetentionPolicy.objects.filter(category=run.category).first()
    reason = purge_skip_reason(category=run.category, policy=policy)
    if reason:
        # Policies can change between queueing and running; a legal hold always wins.
        purge_runs_finish([run], status=PurgeStatus.REFUSED, error=f"Not purged: {reason}.")
        return
    assert policy is not None  # purge_skip_reason refuses a category without a policy
    category = registry.get(run.category)
    refusal = category.purge_refusal()
    if refusal:  # e.g. its source became read-only since the run was queued
        purge_runs_finish([run], status=PurgeStatus.REFUSED, error=f"Not purged: {refusal}")
        return
    try:
        status, error = _delete_in_batches(run, category, policy, pace=pace, result=result)
    except (DatabaseError, OSError) as exc:
        # A failed batch was rolled back; the batches before it stay deleted.
        logger.exception("purge of %s failed", run.category)
        status, error = PurgeStatus.FAILED, f"{type(exc).__name__}: {exc}"
    except BaseException as exc:
        purge_runs_finish([run], status=PurgeStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.save(update_fields=["status", "error", "finished_at", "deleted"])
    if status == PurgeStatus.COMPLETED or run.deleted:
        # update() leaves updated_at alone: a purge is not an edit of the policy.
        DataRetentionPolicy.objects.filter(pk=policy.pk).update(last_purged_at=run.finished_at)
    pace.report(run)


def _delete_in_batches(
    run: PurgeRun, category: RetentionCategory, policy: DataRetentionPolicy, *, pace: _Pace, result: PurgeResult
) -> tuple[str, str]:
    """Delete the category's expired rows batch by batch; return the run's (status, error)."""
    using = category.using
    if pace.out_of_time():
        # Not even counted: the budget is spent, and a COUNT of a big table is not free.
        return PurgeStatus.PARTIAL, "Not started: the time budget ran out before this category; run again."
    cutoff = category.cutoff(policy.days_to_keep, now=timezone.now())
    expired = category.expired(cutoff, using=using)
    run.cutoff = cutoff
    run.matched = expired.count()
    run.save(update_fields=["cutoff", "matched"])
    pace.report(run)
    statements = batch_statements(expired, using)
    record_progress = PurgeRun.objects.filter(pk=run.pk)
    same_database = using == DEFAULT_DB_ALIAS
    after = None
    next_mode_check = 0.0
    # A source's batches commit in its own database and the progress count in ours: both commits skip the flush wait.
    with asynchronous_commits(using), asynchronous_commits(DEFAULT_DB_ALIAS) if not same_database else nullcontext():
        while True:
            now = time.monotonic()
            if pace.deadline is not None and now >= pace.deadline:
                return PurgeStatus.PARTIAL, "Stopped at the time budget; run again to continue."
            if now >= next_mode_check:
                if not is_normal():
                    result.stopped_by_mode = current_mode()
                    return PurgeStatus.PARTIAL, f"Stopped: maintenance mode became {result.stopped_by_mode!r}."
                next_mode_check = now + MODE_CHECK_SECONDS
            end = statements.batch_end(after=after, batch_size=pace.batch_size)
            if end is None:
                return PurgeStatus.COMPLETED, ""
            started = time.monotonic()
            with transaction.atomic(using=using):
                category.before_delete_batch(batch_rows(expired, after=after, end=end), using=using)
                deleted = statements.delete(after=after, end=end)
                if same_database:
                    # In the same transaction: the recorded count never disagrees with what was deleted.
                    record_progress.update(deleted=run.deleted + deleted)
                    purge_rows_count(category=category.name, deleted=deleted)
            if not same_database:
                # Another database (a source): recorded once its batch committed; a crash in
                # between undercounts that batch, it never counts rows that are still there.
                record_progress.update(deleted=run.deleted + deleted)
                purge_rows_count(category=category.name, deleted=deleted)
            result.longest_batch_seconds = max(result.longest_batch_seconds, time.monotonic() - started)
            run.deleted += deleted
            if pace.lock is not None:
                pace.lock.refresh()
            after = end
            pace.report(run)
