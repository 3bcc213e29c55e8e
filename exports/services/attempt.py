"""One worker's attempt at a job: claiming it, fenced writes, the heartbeat thread, and
putting a job back to pending (the one function every path that re-queues calls)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from exports.conf import exports_settings
from exports.models import ExportJob, JobStatus

logger = logging.getLogger(__name__)


def export_jobs_back_to_pending(jobs: QuerySet[ExportJob]) -> int:
    """Put `jobs` back to pending for a fresh attempt from the beginning; return how many.

    The heartbeat is restamped so the stale-job sweep gives the next worker STALE_SECONDS
    to pick the job up before it rings again.
    """
    now = timezone.now()
    return jobs.update(
        status=JobStatus.PENDING,
        started_at=None,
        rows_written=0,
        error_message=None,
        heartbeat_at=now,
        updated_at=now,
    )


def export_job_claim(job_id: int) -> int | None:
    """Move a pending job to running; return this attempt's number (None: not pending)."""
    now = timezone.now()
    with transaction.atomic():
        claimed = ExportJob.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
            status=JobStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            rows_written=0,
            error_message=None,
            updated_at=now,
        )
        if not claimed:
            return None
        return ExportJob.objects.filter(pk=job_id).values_list("attempts", flat=True).get()


class Attempt:
    """Writes of one attempt at a job, fenced by its attempt number.

    If the job was re-queued (its worker looked dead) and claimed again, this attempt's
    writes match no row: a slow worker can never finish or overwrite a newer attempt.
    """

    def __init__(self, job_id: int, number: int) -> None:
        self.job_id = job_id
        self.number = number

    def mine(self) -> QuerySet[ExportJob]:
        return ExportJob.objects.filter(pk=self.job_id, status=JobStatus.RUNNING, attempts=self.number)

    def flush(self, rows: int) -> bool:
        now = timezone.now()
        return bool(
            self.mine().filter(cancel_requested=False).update(rows_written=rows, heartbeat_at=now, updated_at=now)
        )

    def beat(self) -> bool:
        """A sign of life; False once this attempt no longer owns the job (finished, cancelled, superseded)."""
        return bool(self.mine().update(heartbeat_at=timezone.now()))

    def set_total(self, total: int) -> None:
        self.mine().update(total_rows=total, heartbeat_at=timezone.now())

    def requeue(self) -> bool:
        return bool(export_jobs_back_to_pending(self.mine()))

    def finish(self, status: str, *, now: Any = None, **fields: Any) -> bool:
        now = now or timezone.now()
        return bool(self.mine().update(status=status, completed_at=now, updated_at=now, heartbeat_at=now, **fields))


class Heartbeat:
    """Write the attempt's heartbeat from a thread while the worker lives.

    Progress writes are a heartbeat too, but only when rows move: a long COUNT, a COPY whose
    filter skips millions of rows, a zip of big files or a slow upload to storage would look
    dead. The thread goes quiet only when the process dies (or the attempt no longer owns
    the job), which is what the stale-job sweep looks for.
    """

    def __init__(self, attempt: Attempt) -> None:
        self.attempt = attempt
        # A floor, so a tiny STALE_SECONDS cannot turn the thread into a busy loop of row updates.
        self.interval = max(
            0.05, min(float(exports_settings.HEARTBEAT_SECONDS), float(exports_settings.STALE_SECONDS) / 4)
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"export-{attempt.job_id}-heartbeat", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    if not self.attempt.beat():
                        return
                except DatabaseError as exc:  # a blip: the next beat tries again, the sweep waits STALE_SECONDS
                    logger.warning("export %s: heartbeat not written: %s", self.attempt.job_id, exc)
                    close_old_connections()
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
