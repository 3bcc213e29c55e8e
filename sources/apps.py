from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "sources"
    verbose_name = "Sources"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from sources.connections import on_setting_changed, sync_aliases

        sync_aliases()
        setting_changed.connect(on_setting_changed, dispatch_uid="sources.sync_aliases")
