"""One way for every app to read its settings: `notify_settings.LEASE_SECONDS`.

Each app keeps its settings in one namespaced dict in `settings.py` (NOTIFICATIONS,
EXPORTS, RETENTION, MAINTENANCE), filled from the environment there, and declares its
defaults in its own `conf.py`:

    notify_settings = AppSettings("NOTIFICATIONS", DEFAULTS)

Values are read on every access, so `override_settings` (and pytest-django's `settings`
fixture) always apply, as with DRF's `api_settings`. A key in a namespace dict that its
app does not declare is a typo that would silently do nothing: the system check below
reports it (opsconsole.E002).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

_REGISTRY: dict[str, AppSettings] = {}


class AppSettings:
    def __init__(self, namespace: str, defaults: dict[str, Any]) -> None:
        self._namespace = namespace
        self._defaults = dict(defaults)
        _REGISTRY[namespace] = self

    @property
    def namespace(self) -> str:
        return self._namespace

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self._defaults)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._defaults:
            raise AttributeError(f"unknown {self._namespace} setting {name!r}")
        return getattr(settings, self._namespace, {}).get(name, self._defaults[name])

    def get(self, name: str) -> Any:
        return getattr(self, name)


@checks.register(checks.Tags.compatibility)
def check_unknown_setting_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for namespace, app_settings in sorted(_REGISTRY.items()):
        configured = getattr(settings, namespace, None)
        if configured is None:
            continue
        if not isinstance(configured, dict):
            errors.append(checks.Error(f"settings.{namespace} must be a dict.", id="opsconsole.E002"))
            continue
        for key in sorted(set(configured) - app_settings.keys):
            errors.append(
                checks.Error(
                    f"settings.{namespace} has an unknown key {key!r}.",
                    hint=f"Known keys: {', '.join(sorted(app_settings.keys))}.",
                    id="opsconsole.E002",
                )
            )
    return errors
