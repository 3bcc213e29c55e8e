"""Every write of the retention app: policies, and the purge engine that enforces them.

The engine deletes in keyset batches on the primary key: it finds the id that ends the
next `batch_size` expired rows, then deletes that id range (with the date condition
again) in one short transaction. The two statements are compiled once per run from the
category's queryset and run as plain SQL (`QuerySet._raw_delete` for conditions that
join), so no row is loaded into Python and no signal or cascade collector runs (those
made Django load 1M rows, 2.3 GB, in the measurements of DESIGN.md). Dependent rows and
files go in the category's `before_delete_batch` hook, in the same batch. Each batch
commits on its own, so an interrupted purge has lost nothing and a rerun continues.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from maintenance.selectors import current_mode, is_normal
from retention.conf import retention_setting
from retention.exceptions import InvalidInput, MaintenanceModeActive, PurgeLocked, PurgeNotQueued, PurgeRefused
from retention.locks import PurgeLockBackend, purge_lock
from retention.models import DataRetentionPolicy, PurgeRun, PurgeStatus, PurgeTrigger
from retention.registry import RetentionCategory, registry

logger = logging.getLogger(__name__)

DAYS_TO_KEEP_MIN = 1
DAYS_TO_KEEP_MAX = 36500

ProgressCallback = Callable[[PurgeRun], None]


# -- policies -------------------------------------------------------------------
@transaction.atomic
def policy_upsert(
    *,
    category: str,
    days_to_keep: int | None = None,
    enabled: bool | None = None,
    description: str | None = None,
    legal_hold: bool | None = None,
) -> tuple[DataRetentionPolicy, bool]:
    """Create the policy of `category`, or update the fields given; return (policy, created)."""
    registry.get(category)
    if days_to_keep is not None and (
        isinstance(days_to_keep, bool)
        or not isinstance(days_to_keep, int)
        or not DAYS_TO_KEEP_MIN <= days_to_keep <= DAYS_TO_KEEP_MAX
    ):
        raise InvalidInput(
            fields={"days_to_keep": [f"Must be an integer from {DAYS_TO_KEEP_MIN} to {DAYS_TO_KEEP_MAX}."]}
        )
    changes = {
        "days_to_keep": days_to_keep,
        "enabled": enabled,
        "description": description,
        "legal_hold": legal_hold,
    }
    while True:
        policy = DataRetentionPolicy.objects.select_for_update().filter(category=category).first()
        created = policy is None
        if policy is None:
            if days_to_keep is None:
                raise InvalidInput(fields={"days_to_keep": ["This field is required to create a policy."]})
            policy = DataRetentionPolicy(category=category)
        for name, value in changes.items():
            if value is not None:
                setattr(policy, name, value)
        policy.full_clean(validate_unique=False)  # the unique index decides, below
        try:
            with transaction.atomic():
                policy.save()
        except IntegrityError:
            if not created:
                raise
            # Another request created this category's policy after our read (nothing to lock
            # then): read it again, locked this time, and update it instead.
            continue
        return policy, created


# -- purge ----------------------------------------------------------------------
@dataclass
class Skipped:
    category: str
    reason: str


@dataclass
class PurgeResult:
    """What one purge (or dry run) did: its runs, the categories it skipped, its longest batch."""

    runs: list[PurgeRun] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    longest_batch_seconds: float = 0.0
    # The mode that stopped the purge midway ("" when it was not stopped by a mode change).
    stopped_by_mode: str = ""

    @property
    def ok(self) -> bool:
        return all(run.status in (PurgeStatus.COMPLETED, PurgeStatus.PARTIAL) for run in self.runs)

    @property
    def deleted(self) -> int:
        return sum(run.deleted for run in self.runs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "runs": [purge_run_as_dict(run) for run in self.runs],
            "skipped": [{"category": s.category, "reason": s.reason} for s in self.skipped],
            "deleted": self.deleted,
            "longest_batch_ms": round(self.longest_batch_seconds * 1000, 1),
            "stopped_by_mode": self.stopped_by_mode or None,
        }


def purge_run_as_dict(run: PurgeRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "category": run.category,
        "trigger": run.trigger,
        "dry_run": run.dry_run,
        "status": run.status,
        "cutoff": run.cutoff.isoformat() if run.cutoff else None,
        "matched": run.matched,
        "deleted": run.deleted,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
    }


def _refuse_unless_normal() -> None:
    if not is_normal():
        raise MaintenanceModeActive(current_mode())


def skip_reason(policy: DataRetentionPolicy | None) -> str:
    if policy is None:
        return "no retention policy"
    if not policy.enabled:
        return "policy disabled"
    if policy.legal_hold:
        return "legal hold"
    return ""


Target = tuple[RetentionCategory, DataRetentionPolicy]


def _targets(categories: Iterable[str] | None) -> tuple[list[Target], list[Skipped]]:
    """The (category, policy) pairs to purge, and the categories skipped with why.

    Without `categories`, every policy; unknown names raise UnknownCategory (a 400) first.
    """
    policies = {policy.category: policy for policy in DataRetentionPolicy.objects.all()}
    if categories is None:
        names = sorted(policies)
    else:
        names = list(dict.fromkeys(categories))
        for name in names:
            registry.get(name)
    targets, skipped = [], []
    for name in names:
        if name not in registry:
            skipped.append(Skipped(name, "category no longer registered"))
            continue
        policy = policies.get(name)
        reason = skip_reason(policy)
        if reason:
            skipped.append(Skipped(name, reason))
        else:
            assert policy is not None  # skip_reason() refuses a missing policy
            targets.append((registry.get(name), policy))
    return targets, skipped


def _actor_fields(actor: Any, actor_name: str) -> dict[str, Any]:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return {"actor": user, "actor_name": actor_name or (user.get_username() if user else "")}


def purge_preview(
    *,
    categories: Iterable[str] | None = None,
    trigger: str = PurgeTrigger.COMMAND,
    actor: Any = None,
    actor_name: str = "",
) -> PurgeResult:
    """Dry run: count exactly the rows each policy would purge now, delete nothing, record the runs."""
    _refuse_unless_normal()
    targets, skipped = _targets(categories)
    result = PurgeResult(skipped=skipped)
    for category, policy in targets:
        now = timezone.now()
        cutoff = category.cutoff(policy.days_to_keep, now=now)
        matched = category.expired(cutoff).count()
        run = PurgeRun.objects.create(
            category=category.name,
            trigger=trigger,
            dry_run=True,
            cutoff=cutoff,
            matched=matched,
            status=PurgeStatus.COMPLETED,
            **_actor_fields(actor, actor_name),
        )
        # started_at is stamped on insert; finishing after it keeps the history in order.
        run.finished_at = run.started_at
        PurgeRun.objects.filter(pk=run.pk).update(finished_at=run.finished_at)
        result.runs.append(run)
    return result


def purge_enqueue(
    *,
    categories: Iterable[str] | None = None,
    trigger: str,
    actor: Any = None,
    actor_name: str = "",
) -> PurgeResult:
    """Record one queued run per category to purge; `purge_execute` (on a worker) carries them out."""
    _refuse_unless_normal()
    targets, skipped = _targets(categories)
    result = PurgeResult(skipped=skipped)
    for category, _policy in targets:
        result.runs.append(
            PurgeRun.objects.create(
                category=category.name,
                trigger=trigger,
                dry_run=False,
                status=PurgeStatus.QUEUED,
                **_actor_fields(actor, actor_name),
            )
        )
    return result


def purge_submit(
    *,
    categories: Iterable[str] | None = None,
    trigger: str,
    actor: Any = None,
    actor_name: str = "",
) -> PurgeResult:
    """Queue the runs (`purge_enqueue`), commit them, then hand their ids to a worker.

    The ids are published after the commit, so a worker never looks for runs that are not
    there yet. When the broker cannot take them the runs are marked failed, not left
    'queued' for nobody, and PurgeNotQueued (503) says so.
    """
    from retention.tasks import purge_queued_runs

    with transaction.atomic():
        result = purge_enqueue(categories=categories, trigger=trigger, actor=actor, actor_name=actor_name)

    def publish() -> None:
        run_ids = [run.pk for run in result.runs]
        try:
            purge_queued_runs.delay(run_ids)
        except BrokerError as exc:
            refusal = PurgeNotQueued(str(exc))
            _mark(result.runs, status=PurgeStatus.FAILED, error=refusal.detail, only_if=(PurgeStatus.QUEUED,))
            logger.warning("purge runs %s not queued: %s", run_ids, exc)
            raise refusal from exc

    if result.runs:
        # Outside a transaction (a request, the admin) this runs at once and its refusal
        # reaches the caller; inside one it waits for the caller's commit.
        transaction.on_commit(publish)
    return result


def purge_now(
    *,
    categories: Iterable[str] | None = None,
    trigger: str,
    actor: Any = None,
    actor_name: str = "",
    batch_size: int | None = None,
    max_seconds: float | None = None,
    progress: ProgressCallback | None = None,
) -> PurgeResult:
    """Purge now in this process (command, schedule): record the runs, then carry them out."""
    queued = purge_enqueue(categories=categories, trigger=trigger, actor=actor, actor_name=actor_name)
    result = purge_execute(
        run_ids=[run.pk for run in queued.runs],
        batch_size=batch_size,
        max_seconds=max_seconds,
        progress=progress,
    )
    result.skipped = queued.skipped + result.skipped
    return result


def _mark(runs: Iterable[PurgeRun], *, status: str, error: str, only_if: tuple[str, ...] = ()) -> None:
    """Finish `runs` with `status`; with `only_if`, only those still in one of those states."""
    now = timezone.now()
    for run in runs:
        rows = PurgeRun.objects.filter(pk=run.pk)
        if only_if:
            rows = rows.filter(status__in=only_if)
        if rows.update(status=status, error=error, finished_at=now):
            run.status, run.error, run.finished_at = status, error, now


INTERRUPTED = "Interrupted: the purging process stopped before it finished; a rerun continues where it stopped."


def _fail_interrupted(*, exclude: Iterable[int] = ()) -> int:
    """Fail every 'running' run but `exclude`; call only while holding the purge lock, which
    proves that no other purge is running, so those runs lost their process.

    `deleted` is left as it is: each batch recorded its count in the transaction that
    deleted its rows, so it is exactly what the dead purge deleted.
    """
    now = timezone.now()
    failed = 0
    for run in PurgeRun.objects.filter(status=PurgeStatus.RUNNING).exclude(pk__in=list(exclude)):
        error = f"{INTERRUPTED} {run.deleted:,} rows had been deleted."
        failed += PurgeRun.objects.filter(pk=run.pk, status=PurgeStatus.RUNNING).update(
            status=PurgeStatus.FAILED, error=error, finished_at=now
        )
    return failed


def purge_runs_fail_interrupted() -> int:
    """Periodic sweep: mark the runs of a purge whose process died as failed; return how many.

    A run is dead when it says 'running' while the purge lock is free (PostgreSQL: nobody
    holds the advisory lock, whose session ended with the process; SQLite: the lock row has
    expired or its holder process is gone). The lock is taken only when some run claims to
    be running, and held for this one update; while a live purge holds it nothing changes.
    """
    if not is_normal() or not PurgeRun.objects.filter(status=PurgeStatus.RUNNING).exists():
        return 0
    try:
        with purge_lock():
            failed = _fail_interrupted()
    except PurgeLocked:
        return 0  # a purge is alive; its runs are its own
    if failed:
        logger.warning("%s purge run(s) left running by a process that died were marked failed", failed)
    return failed


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
    batch_size = int(batch_size or retention_setting("BATCH_SIZE"))
    if batch_size < 1:
        raise InvalidInput(fields={"batch_size": ["Must be at least 1."]})
    budget = float(retention_setting("MAX_SECONDS") if max_seconds is None else max_seconds)
    deadline = time.monotonic() + budget if budget > 0 else None
    open_states = (PurgeStatus.QUEUED, PurgeStatus.RUNNING)

    todo = list(PurgeRun.objects.filter(pk__in=run_ids, status__in=open_states).order_by("pk"))
    result = PurgeResult()
    if not todo:
        return result
    if not is_normal():
        refusal = MaintenanceModeActive(current_mode())
        _mark(todo, status=PurgeStatus.REFUSED, error=refusal.detail, only_if=(PurgeStatus.QUEUED,))
        result.runs = todo
        raise refusal
    try:
        with purge_lock() as lock:
            _fail_interrupted(exclude=[run.pk for run in todo])
            for run in todo:
                if result.stopped_by_mode:
                    refusal = MaintenanceModeActive(result.stopped_by_mode)
                    _mark([run], status=PurgeStatus.REFUSED, error=refusal.detail, only_if=open_states)
                    result.runs.append(run)
                    continue
                claimed = PurgeRun.objects.filter(pk=run.pk, status__in=open_states).update(
                    status=PurgeStatus.RUNNING, started_at=timezone.now()
                )
                if not claimed:
                    continue
                run.refresh_from_db()
                result.runs.append(run)
                _execute_run(run, lock=lock, batch_size=batch_size, deadline=deadline, progress=progress, result=result)
    except BaseException as exc:
        # Runs never started must not stay queued: refused when another purge holds the
        # lock, failed when this process was interrupted or broke. A 'running' run here
        # belongs to the lock's holder, so it is not touched.
        leftovers = [run for run in todo if run not in result.runs]
        if isinstance(exc, PurgeLocked):
            _mark(leftovers, status=PurgeStatus.REFUSED, error=exc.detail, only_if=(PurgeStatus.QUEUED,))
        else:
            error = f"Not started: {type(exc).__name__} {exc}".strip()
            _mark(leftovers, status=PurgeStatus.FAILED, error=error, only_if=(PurgeStatus.QUEUED,))
        raise
    return result


def _execute_run(
    run: PurgeRun,
    *,
    lock: PurgeLockBackend,
    batch_size: int,
    deadline: float | None,
    progress: ProgressCallback | None,
    result: PurgeResult,
) -> None:
    policy = DataRetentionPolicy.objects.filter(category=run.category).first()
    reason = "category no longer registered" if run.category not in registry else skip_reason(policy)
    if reason:
        # Policies can change between queueing and running; a legal hold always wins.
        _mark([run], status=PurgeStatus.REFUSED, error=f"Not purged: {reason}.")
        return
    assert policy is not None  # skip_reason() refuses a missing policy
    category = registry.get(run.category)
    try:
        status, error = _delete_in_batches(
            run, category, policy, lock=lock, batch_size=batch_size, deadline=deadline, progress=progress, result=result
        )
    except (DatabaseError, OSError) as exc:
        # A failed batch was rolled back; the batches before it stay deleted.
        logger.exception("purge of %s failed", run.category)
        status, error = PurgeStatus.FAILED, f"{type(exc).__name__}: {exc}"
    except BaseException as exc:
        _mark([run], status=PurgeStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.save(update_fields=["status", "error", "finished_at", "deleted"])
    if status == PurgeStatus.COMPLETED or run.deleted:
        # update() leaves updated_at alone: a purge is not an edit of the policy.
        DataRetentionPolicy.objects.filter(pk=policy.pk).update(last_purged_at=run.finished_at)
    if progress:
        progress(run)


@contextmanager
def _asynchronous_commits(using: str) -> Iterator[None]:
    """While purging, let COMMIT return before its WAL reaches disk (PostgreSQL only).

    Waiting for the flush cost ~5 ms a batch here, a quarter of the purge. It is safe
    because a purge batch is idempotent: a server crash can lose only the last few
    batches' deletes (never corrupt anything), and the next run deletes those rows again.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        # Failing here means the connection broke or its transaction aborted (which rolls
        # the SET back too); the error that got us here matters more.
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


class _KeysetStatements:
    """The two statements of a keyset batch, compiled once per run from the category's queryset.

    Compiling the ORM queries again for every batch cost ~2 ms a batch in Python; the
    SQL is the same each time but for the id bounds.
    """

    def __init__(self, expired: QuerySet, using: str) -> None:
        query = expired.query
        if len(query.alias_map) != 1:
            raise ValueError("conditions that join other tables need the ORM path")
        connection = connections[using]
        quote = connection.ops.quote_name
        where, self.where_params = query.get_compiler(using).compile(query.where)
        assert query.model is not None  # a QuerySet's query always has its model
        table = quote(query.model._meta.db_table)
        pk = f"{table}.{quote(query.model._meta.pk.column)}"
        self.using = using
        select = f"SELECT {pk} AS batch_pk FROM {table} WHERE {where}"
        self.first_end = f"SELECT MAX(batch_pk) FROM ({select} ORDER BY {pk} LIMIT %s) batch"
        self.next_end = f"SELECT MAX(batch_pk) FROM ({select} AND {pk} > %s ORDER BY {pk} LIMIT %s) batch"
        self.first_delete = f"DELETE FROM {table} WHERE {where} AND {pk} <= %s"
        self.next_delete = f"DELETE FROM {table} WHERE {where} AND {pk} > %s AND {pk} <= %s"

    def batch_end(self, *, after: Any, batch_size: int) -> Any:
        """The id that ends the next `batch_size` expired rows after `after` (None: no rows left)."""
        with connections[self.using].cursor() as cursor:
            if after is None:
                cursor.execute(self.first_end, [*self.where_params, batch_size])
            else:
                cursor.execute(self.next_end, [*self.where_params, after, batch_size])
            return cursor.fetchone()[0]

    def delete(self, *, after: Any, end: Any) -> int:
        with connections[self.using].cursor() as cursor:
            if after is None:
                cursor.execute(self.first_delete, [*self.where_params, end])
            else:
                cursor.execute(self.next_delete, [*self.where_params, after, end])
            return cursor.rowcount


class _OrmStatements:
    """The same two steps through the ORM, for conditions that join other tables."""

    def __init__(self, expired: QuerySet, using: str) -> None:
        self.expired = expired
        self.using = using

    def batch_end(self, *, after: Any, batch_size: int) -> Any:
        remaining = self.expired if after is None else self.expired.filter(pk__gt=after)
        return remaining.order_by("pk")[:batch_size].aggregate(end=Max("pk"))["end"]

    def delete(self, *, after: Any, end: Any) -> int:
        return _batch(self.expired, after=after, end=end)._raw_delete(self.using)


def _batch(expired: QuerySet, *, after: Any, end: Any) -> QuerySet:
    return expired.filter(pk__lte=end) if after is None else expired.filter(pk__gt=after, pk__lte=end)


def _statements(expired: QuerySet, using: str) -> _KeysetStatements | _OrmStatements:
    try:
        return _KeysetStatements(expired, using)
    except (ValueError, EmptyResultSet, FullResultSet):
        return _OrmStatements(expired, using)


MODE_CHECK_SECONDS = 1.0


def _delete_in_batches(
    run: PurgeRun,
    category: RetentionCategory,
    policy: DataRetentionPolicy,
    *,
    lock: PurgeLockBackend,
    batch_size: int,
    deadline: float | None,
    progress: ProgressCallback | None,
    result: PurgeResult,
) -> tuple[str, str]:
    using = "default"
    if deadline is not None and time.monotonic() >= deadline:
        # Not even counted: the budget is spent, and a COUNT of a big table is not free.
        return PurgeStatus.PARTIAL, "Not started: the time budget ran out before this category; run again."
    cutoff = category.cutoff(policy.days_to_keep, now=timezone.now())
    expired = category.expired(cutoff, using=using)
    run.cutoff = cutoff
    run.matched = expired.count()
    run.save(update_fields=["cutoff", "matched"])
    if progress:
        progress(run)
    statements = _statements(expired, using)
    record_progress = PurgeRun.objects.using(using).filter(pk=run.pk)
    after = None
    next_mode_check = 0.0
    with _asynchronous_commits(using):
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return PurgeStatus.PARTIAL, "Stopped at the time budget; run again to continue."
            if now >= next_mode_check:
                if not is_normal():
                    result.stopped_by_mode = current_mode()
                    return PurgeStatus.PARTIAL, f"Stopped: maintenance mode became {result.stopped_by_mode!r}."
                next_mode_check = now + MODE_CHECK_SECONDS
            end = statements.batch_end(after=after, batch_size=batch_size)
            if end is None:
                return PurgeStatus.COMPLETED, ""
            started = time.monotonic()
            with transaction.atomic(using=using):
                category.before_delete_batch(_batch(expired, after=after, end=end), using=using)
                deleted = statements.delete(after=after, end=end)
                # In the same transaction: the recorded count never disagrees with what was deleted.
                record_progress.update(deleted=run.deleted + deleted)
            result.longest_batch_seconds = max(result.longest_batch_seconds, time.monotonic() - started)
            run.deleted += deleted
            lock.refresh()
            after = end
            if progress:
                progress(run)


def purge_scheduled() -> PurgeResult | None:
    """The daily purge of every policy (beat); logs and returns None when it may not run now."""
    try:
        return purge_now(trigger=PurgeTrigger.SCHEDULE, actor_name="schedule")
    except PurgeRefused as exc:
        logger.warning("scheduled purge skipped: %s", exc.detail)
        return None
