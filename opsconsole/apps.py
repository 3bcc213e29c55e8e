from django.apps import AppConfig


class OpsConsoleConfig(AppConfig):
    name = "opsconsole"
    verbose_name = "OpsConsole"

    def ready(self) -> None:
        from opsconsole.celery import ensure_broker_folders

        # Web and beat send tasks too: the embedded broker's folders must exist first.
        ensure_broker_folders()
