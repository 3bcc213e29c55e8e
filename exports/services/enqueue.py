"""Ringing a worker for a job: the one way every export service enqueues."""

from __future__ import annotations

from django.db import transaction

from opsconsole import doorbell


def export_job_enqueue(job_id: int) -> None:
    """Ask a worker to run the job once the current transaction commits.

    A doorbell (opsconsole/doorbell.py): never waits on the broker; a job whose message is
    lost stays pending and the stale-job sweep sends it again.
    """
    transaction.on_commit(lambda: doorbell.ring("exports.tasks.run_export", job_id))
