from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class MaintenanceConfig(AppConfig):
    name = "maintenance"
    verbose_name = "Maintenance"

    def ready(self) -> None:
        from maintenance import guards, state
        from maintenance.models import MaintenanceState

        # Keeps the shared cache true to the row even for writes that bypass the service
        # (which publishes explicitly and marks its instance so these skip it).
        post_save.connect(state.state_saved, sender=MaintenanceState, dispatch_uid="maintenance_state_saved")
        post_delete.connect(state.state_deleted, sender=MaintenanceState, dispatch_uid="maintenance_state_deleted")
        # Tasks and management commands may not write to the database outside normal
        # mode, but for the allow-list (maintenance/guards.py).
        guards.install_write_blocker()
