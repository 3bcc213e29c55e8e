"""Creating export jobs: validate the request, check who may read it, dedupe, record, enqueue."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

import exports.services.enqueue as enqueue
from exports.exceptions import DatasetForbidden, ExportsPaused, InvalidExportRequest
from exports.formats import FORMATS
from exports.models import SNAPSHOT, ExportJob
from exports.registry import dataset_names, get_dataset
from exports.selectors import export_job_find_active_duplicate
from maintenance.selectors import current_mode, is_normal

UNREGISTERED_PERMISSION = "exports.view_unregistered_dataset"


def export_request_validate(
    *, job_type: Any, format: Any, filter_params: Any, datasets: Any
) -> tuple[str, str, dict[str, Any], list[str]]:
    """Check a request against the registries; return (job_type, format, filter_params, datasets) canonical."""
    errors: dict[str, list[str]] = {}
    if format not in FORMATS:
        errors["format"] = [f"Unknown format {format!r}. Known: {', '.join(FORMATS)}."]
    if not isinstance(job_type, str) or not job_type:
        errors["job_type"] = ["A dataset name or 'snapshot' is required."]
    if errors:
        raise InvalidExportRequest(f"Invalid input: {', '.join(sorted(errors))}.", fields=errors)
    if job_type != SNAPSHOT:
        dataset = get_dataset(job_type, field_name="job_type")
        if datasets:
            raise InvalidExportRequest(
                "datasets is only for snapshots.",
                fields={"datasets": ["Only a 'snapshot' job takes a datasets list; this job exports job_type."]},
            )
        return job_type, format, dataset.validate_filters(filter_params), []
    datasets = _snapshot_datasets(datasets)
    return SNAPSHOT, format, _snapshot_filters(filter_params, datasets), datasets


def _snapshot_datasets(datasets: Any) -> list[str]:
    if not isinstance(datasets, list) or not datasets or not all(isinstance(name, str) for name in datasets):
        raise InvalidExportRequest(
            "A snapshot needs datasets.",
            fields={"datasets": [f"A non-empty list of dataset names. Known: {', '.join(dataset_names())}."]},
        )
    unknown = sorted({name for name in datasets if name not in dataset_names()})
    if unknown:
        raise InvalidExportRequest(
            f"Unknown datasets: {', '.join(unknown)}.",
            fields={"datasets": [f"Unknown: {', '.join(unknown)}. Known: {', '.join(dataset_names())}."]},
        )
    if len(set(datasets)) != len(datasets):
        raise InvalidExportRequest("Duplicate datasets.", fields={"datasets": ["Each dataset may appear once."]})
    return list(datasets)


def _snapshot_filters(filter_params: Any, datasets: list[str]) -> dict[str, Any]:
    filter_params = filter_params or {}
    if not isinstance(filter_params, dict):
        raise InvalidExportRequest(
            "filter_params must be an object.",
            fields={"filter_params": ["For a snapshot: an object of {dataset name: {filters}}."]},
        )
    stray = sorted(set(filter_params) - set(datasets))
    if stray:
        raise InvalidExportRequest(
            f"filter_params names datasets not in the snapshot: {', '.join(stray)}.",
            fields={f"filter_params.{name}": ["Not one of this snapshot's datasets."] for name in stray},
        )
    return {
        name: get_dataset(name).validate_filters(filter_params[name], field_name=f"filter_params.{name}")
        for name in sorted(filter_params)
    }


def export_datasets_check_permission(*, user: Any, job_type: str, datasets: list[str]) -> None:
    """An export shows rows of its datasets: the user must be allowed to view each of them.

    Without this, `add_exportjob` alone would read channels, outbox bodies or the admin log
    that the same user cannot list. `user=None` (the command line, a worker) is trusted.
    """
    if user is None:
        return
    names = datasets if job_type == SNAPSHOT else [job_type]
    known = set(dataset_names())
    # A dataset no longer registered (an old job's) can no longer be checked: superusers only.
    needs = {name: get_dataset(name).view_permission if name in known else UNREGISTERED_PERMISSION for name in names}
    refused = [name for name, permission in needs.items() if not user.has_perm(permission)]
    if refused:
        needed = ", ".join(needs[name] for name in refused)
        raise DatasetForbidden(
            f"You may not export {', '.join(refused)}: it needs the permission {needed}.",
            fields={"job_type" if job_type != SNAPSHOT else "datasets": [f"Needs {needed}."]},
        )


@transaction.atomic
def export_job_create(
    *,
    job_type: Any,
    format: Any = "csv",
    filter_params: Any = None,
    datasets: Any = None,
    user: Any = None,
    requested_by: str | None = None,
    note: str = "",
) -> tuple[ExportJob, bool]:
    """Validate and record a job, or return the identical pending/running one; `(job, created)`.

    `requested_by` is who asked, never what a client claims: the authenticated `user`'s
    username. Only a caller with no user (the export command, a worker) names the requester
    itself. Free text from the requester goes in `note`, which is not part of a job's identity.
    The worker is enqueued when the transaction commits.
    """
    job_type, format, filter_params, datasets = export_request_validate(
        job_type=job_type, format=format, filter_params=filter_params, datasets=datasets
    )
    if not getattr(user, "is_authenticated", False):
        user = None
    if user is not None:
        if requested_by is not None:
            raise ValueError("requested_by is the user's username; pass free text as note")
        requested_by = user.get_username()
    export_datasets_check_permission(user=user, job_type=job_type, datasets=datasets)
    # Not @writes_guarded: ExportsPaused ("Maintenance mode is 'read_only': no new exports ...")
    # is the contract of the export command and the API, and it comes after the input checks
    # (a bad request is a 400 in any mode).
    if not is_normal():
        raise ExportsPaused(current_mode())
    user_id = user.pk if user is not None else None
    _lock_identical_requests(job_type, format, filter_params, datasets, requested_by, user_id)
    existing = export_job_find_active_duplicate(
        job_type=job_type,
        format=format,
        filter_params=filter_params,
        datasets=datasets,
        requested_by=requested_by,
        user_id=user_id,
    )
    if existing is not None:
        return existing, False
    job = ExportJob(
        job_type=job_type,
        format=format,
        filter_params=filter_params,
        datasets=datasets,
        requested_by=requested_by,
        requested_by_user=user,
        note=note,
        heartbeat_at=timezone.now(),
    )
    job.full_clean()
    job.save()
    enqueue.export_job_enqueue(job.pk)
    return job, True


def _lock_identical_requests(*identity: Any) -> None:
    """Serialise identical create requests until the transaction ends, so the duplicate check
    sees the other's job. PostgreSQL: a transaction advisory lock on a hash of the request
    (READ COMMITTED would let two concurrent requests both find no duplicate). SQLite needs
    nothing: its IMMEDIATE transactions already run writers one at a time."""
    if connection.vendor != "postgresql":
        return
    key = json.dumps(list(identity), sort_keys=True, default=str)
    digest = hashlib.blake2b(f"exports.create:{key}".encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)])
