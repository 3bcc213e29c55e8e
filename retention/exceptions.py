"""Errors of the retention app; the /system handler maps them to 400/404/409."""

from __future__ import annotations

from opsconsole.api.exceptions import Conflict, InvalidInput, NotFound, OpsConsoleError, Unavailable


class RetentionError(OpsConsoleError):
    """Base of every retention error."""


class UnknownCategory(RetentionError, InvalidInput):
    """A category name nobody registered."""

    def __init__(self, name: str, known: list[str], *, field: str = "category"):
        message = f"Unknown retention category {name!r}. Known categories: {', '.join(known)}."
        super().__init__(message, fields={field: [message]}, known_categories=known)
        self.name = name


class PolicyNotFound(RetentionError, NotFound):
    default_detail = "No retention policy for this category."


class PurgeRefused(RetentionError, Conflict):
    """A purge may not start now (maintenance mode, or another purge holds the lock)."""

    default_detail = "Purge refused."


class MaintenanceModeActive(PurgeRefused):
    def __init__(self, mode: str):
        super().__init__(
            f"Purge refused: maintenance mode is {mode!r}; purges run only while the mode is 'normal'.",
            mode=mode,
        )
        self.mode = mode


class PurgeLocked(PurgeRefused):
    def __init__(self, holder: str = "", *, detail: str | None = None):
        suffix = f" (held by {holder})" if holder else ""
        super().__init__(detail or f"Purge refused: another purge is running{suffix}. Try again when it has finished.")


class PurgeNotQueued(RetentionError, Unavailable):
    """The runs were recorded but the task broker would not take them (they are marked failed)."""

    def __init__(self, reason: str):
        super().__init__(
            f"Purge not queued: the task broker is unreachable ({reason}). The runs were marked failed; "
            "try again once the broker is back, or run `manage.py purge_retention` on a server."
        )
