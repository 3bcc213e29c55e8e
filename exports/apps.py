from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "Exports"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Each app registers its datasets in <app>/datasets.py, as admin.py does for the admin.
        autodiscover_modules("datasets")
