from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "Retention"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Each app registers its retention categories in <app>/retention_categories.py.
        autodiscover_modules("retention_categories")
