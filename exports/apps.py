import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "Exports"

    def ready(self) -> None:
        from celery.signals import worker_ready
        from django.utils.module_loading import autodiscover_modules

        # Each app registers its datasets in <app>/datasets.py, as admin.py does for the admin.
        autodiscover_modules("datasets")
        worker_ready.connect(remove_orphaned_temp_files, weak=False, dispatch_uid="exports.remove_orphaned_temp_files")


def remove_orphaned_temp_files(**_kwargs) -> None:
    """A worker starting on this machine clears the temp files that a killed worker left here."""
    from django.db import DatabaseError

    from exports.services import export_temp_files_remove_orphans

    try:
        export_temp_files_remove_orphans()
    except (DatabaseError, OSError) as exc:  # the next stale-job sweep tries again
        logger.warning("orphaned export temp files not checked at start-up: %s", exc)
