"""What a purge reports, and finishing its runs: shared by the requests and the engine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from retention.models import PurgeRun, PurgeStatus


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
        return all(run.status in PurgeStatus.succeeded() for run in self.runs)

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


def purge_runs_finish(runs: Iterable[PurgeRun], *, status: str, error: str, only_if: Iterable[str] = ()) -> None:
    """Finish `runs` with `status`; with `only_if`, only those still in one of those states."""
    only_if = tuple(only_if)
    now = timezone.now()
    for run in runs:
        rows = PurgeRun.objects.filter(pk=run.pk)
        if only_if:
            rows = rows.filter(status__in=only_if)
        if rows.update(status=status, error=error, finished_at=now):
            run.status, run.error, run.finished_at = status, error, now
