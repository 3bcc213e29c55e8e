"""Every write to export jobs, by seam:

- create: validate a request, check the user may read its datasets, dedupe, record, enqueue
- cancel: the one status change a client may ask for
- run (with attempt): the worker side — claim, fenced writes, heartbeat, store, finish
- recovery: dead workers' jobs re-queued or failed, lost messages resent, orphaned temp files removed
- files: storing, deleting and expiring the files
- enqueue: the doorbell every path rings after commit

The names below are the public surface; import them from `exports.services`.
"""

from exports.services.attempt import export_job_claim, export_jobs_back_to_pending
from exports.services.cancel import export_job_cancel, export_job_set_status
from exports.services.create import export_datasets_check_permission, export_job_create, export_request_validate
from exports.services.enqueue import export_job_enqueue
from exports.services.files import delete_stored_file, export_file_store, export_files_delete_expired, export_job_delete
from exports.services.recovery import export_jobs_recover_stale, export_temp_files_remove_orphans
from exports.services.run import export_job_run

__all__ = [
    "delete_stored_file",
    "export_datasets_check_permission",
    "export_file_store",
    "export_files_delete_expired",
    "export_job_cancel",
    "export_job_claim",
    "export_job_create",
    "export_job_delete",
    "export_job_enqueue",
    "export_job_run",
    "export_job_set_status",
    "export_jobs_back_to_pending",
    "export_jobs_recover_stale",
    "export_request_validate",
    "export_temp_files_remove_orphans",
]
