"""Errors of the maintenance app; the project's DRF handler maps them to JSON."""

from __future__ import annotations

from opsconsole.errors import Conflict, InvalidInput, OpsConsoleError, Unavailable


class MaintenanceError(OpsConsoleError):
    """Base of every maintenance error."""


class InvalidMaintenanceChange(InvalidInput, MaintenanceError):
    """A requested change with bad input: unknown mode, no reason, `until` in the past."""


class ModeUnchanged(Conflict, MaintenanceError):
    """The request would change nothing: same mode, message, until and retry_after."""


class WritesBlocked(Unavailable, MaintenanceError):
    """A write attempted while the service is not in normal mode."""

    def __init__(self, *, mode: str, retry_after: int, message: str = "") -> None:
        detail = message or f"The service is in {mode} mode; writes are refused. Try again later."
        super().__init__(detail, mode=mode, retry_after=retry_after)
        self.mode = mode
        self.retry_after = retry_after
