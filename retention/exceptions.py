"""Errors of the retention app, on the kinds of opsconsole/errors.py (no HTTP here: the
/system handler maps kinds to 400/404/409/503)."""

from __future__ import annotations

from opsconsole.errors import Conflict, InvalidInput, NotFound, OpsConsoleError, Unavailable


class RetentionError(OpsConsoleError):
    """Base of every retention error."""


class InvalidRetentionRequest(RetentionError, InvalidInput):
    """A policy or purge request with a bad field (days_to_keep out of range, batch_size < 1)."""

    default_detail = "Invalid input."


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


class CategoryRefused(PurgeRefused):
    """A category that may not be purged now (its database is read-only)."""

    def __init__(self, category: str, reason: str):
        super().__init__(f"Purge refused for {category}: {reason}", category=category)


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
