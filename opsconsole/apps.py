from django.apps import AppConfig


class OpsConsoleConfig(AppConfig):
    name = "opsconsole"
    verbose_name = "OpsConsole"

    def ready(self) -> None:
        import logging

        from django.core.signals import request_finished
        from django.utils.module_loading import autodiscover_modules

        from opsconsole.celery import ensure_broker_folders
        from opsconsole.request_id import forget_request_id

        # Each app contributes its dashboard panels in <app>/dashboard.py, as admin.py does for the admin.
        autodiscover_modules("dashboard")
        # And its /metrics families in <app>/metrics.py; opsconsole's own (workers, beat) here.
        autodiscover_modules("metrics")
        import opsconsole.metrics.liveness_families  # noqa: F401

        # A request's id stays on its log lines until its response is closed (opsconsole/request_id.py).
        request_finished.connect(forget_request_id, dispatch_uid="opsconsole.forget_request_id")
        # Python warnings go through the handlers of settings.LOGGING (one JSON object a line with LOG_FORMAT=json).
        logging.captureWarnings(True)

        # Web and beat send tasks too: the embedded broker's folders must exist first.
        ensure_broker_folders()
