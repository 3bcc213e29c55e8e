"""Every write of the retention app, by seam:

- policies: how long each category is kept (`policy_upsert`)
- purge_requests: preview, queue (`purge_submit`) or run now (`purge_now`, `purge_scheduled`)
- engine: a worker carrying out queued runs batch by batch under the purge lock (`purge_execute`)
- statements: the SQL of one keyset batch
- interrupted: the sweep that fails runs whose process died
- runs: what a purge reports, and finishing runs

Which categories are purged at all is one rule in the selectors: `purge_skip_reason`.
The names below are the public surface; import them from `retention.services`.
"""

from retention.services.engine import ProgressCallback, purge_execute
from retention.services.interrupted import purge_runs_fail_interrupted
from retention.services.policies import DAYS_TO_KEEP_MAX, DAYS_TO_KEEP_MIN, policy_upsert
from retention.services.purge_requests import purge_enqueue, purge_now, purge_preview, purge_scheduled, purge_submit
from retention.services.runs import PurgeResult, Skipped

__all__ = [
    "DAYS_TO_KEEP_MAX",
    "DAYS_TO_KEEP_MIN",
    "ProgressCallback",
    "PurgeResult",
    "Skipped",
    "policy_upsert",
    "purge_enqueue",
    "purge_execute",
    "purge_now",
    "purge_preview",
    "purge_runs_fail_interrupted",
    "purge_scheduled",
    "purge_submit",
]
