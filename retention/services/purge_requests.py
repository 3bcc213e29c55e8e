"""Asking for a purge: preview it (dry run), queue it for a worker, or run it here and now.

Which categories a request covers is decided by the one eligibility rule,
`retention.selectors.purge_skip_reason`; the rest are reported as skipped with why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from maintenance.selectors import current_mode, is_normal
from opsconsole.celery import app as celery_app
from retention.exceptions import CategoryRefused, MaintenanceModeActive, PurgeNotQueued, PurgeRefused
from retention.models import DataRetentionPolicy, PurgeRun, PurgeStatus, PurgeTrigger
from retention.registry import RetentionCategory, registry
from retention.selectors import purge_skip_reason
from retention.services.engine import ProgressCallback, purge_execute
from retention.services.runs import PurgeResult, Skipped, purge_runs_finish

logger = logging.getLogger(__name__)

PURGE_TASK = "retention.tasks.purge_queued_runs"

Target = tuple[RetentionCategory, DataRetentionPolicy]


def _refuse_unless_normal() -> None:
    # Not @writes_guarded: MaintenanceModeActive ("Purge refused: maintenance mode is ...",
    # a 409 through the API, exit code 3 from purge_retention) is the purge's contract.
    if not is_normal():
        raise MaintenanceModeActive(current_mode())


def _targets(categories: Iterable[str] | None, *, deleting: bool = False) -> tuple[list[Target], list[Skipped]]:
    """The (category, policy) pairs to purge, and the categories skipped with why.

    Without `categories`, every policy; unknown names raise UnknownCategory (a 400) first.
    When `deleting`, a named category that refuses purges (a read-only source) is a
    CategoryRefused (409); without names it is skipped with its reason.
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
        reason = purge_skip_reason(category=name, policy=policies.get(name))
        refusal = registry.get(name).purge_refusal() if deleting and not reason else ""
        if refusal and categories is not None:
            raise CategoryRefused(name, refusal)
        if reason or refusal:
            skipped.append(Skipped(name, reason or refusal))
        else:
            targets.append((registry.get(name), policies[name]))
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
    targets, skipped = _targets(categories, deleting=True)
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
    with transaction.atomic():
        result = purge_enqueue(categories=categories, trigger=trigger, actor=actor, actor_name=actor_name)
    if result.runs:
        # Outside a transaction (a request, the admin) this runs at once and its refusal
        # reaches the caller; inside one it waits for the caller's commit.
        transaction.on_commit(lambda: _publish(result.runs))
    return result


def _publish(runs: list[PurgeRun]) -> None:
    """Send the runs to a worker by the task's name, synchronously (not a doorbell): a broker
    that refuses them must mark them failed and answer the caller."""
    run_ids = [run.pk for run in runs]
    try:
        if celery_app.conf.task_always_eager:
            celery_app.loader.import_default_modules()
            celery_app.tasks[PURGE_TASK].apply(args=[run_ids])
        else:
            celery_app.send_task(PURGE_TASK, args=[run_ids])
    except BrokerError as exc:
        refusal = PurgeNotQueued(str(exc))
        purge_runs_finish(runs, status=PurgeStatus.FAILED, error=refusal.detail, only_if=[PurgeStatus.QUEUED])
        logger.warning("purge runs %s not queued: %s", run_ids, exc)
        raise refusal from exc


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


def purge_scheduled() -> PurgeResult | None:
    """The daily purge of every policy (beat); logs and returns None when it may not run now."""
    try:
        return purge_now(trigger=PurgeTrigger.SCHEDULE, actor_name="schedule")
    except PurgeRefused as exc:
        logger.warning("scheduled purge skipped: %s", exc.detail)
        return None
