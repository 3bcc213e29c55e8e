"""Errors of the export engine; the /system handler maps them to 400/404/409/410."""

from __future__ import annotations

from opsconsole.api.exceptions import Conflict, Forbidden, Gone, InvalidInput, NotFound, OpsConsoleError, Unavailable


class ExportError(OpsConsoleError):
    """Base of every export error."""


class UnknownDataset(InvalidInput, ExportError):
    default_detail = "Unknown dataset."


class InvalidExportRequest(InvalidInput, ExportError):
    default_detail = "Invalid export request."


class DatasetForbidden(Forbidden, ExportError):
    """The user may not read the rows of a dataset (Django's view permission on its model)."""

    default_detail = "You may not export this dataset."


class ExportsPaused(Unavailable, ExportError):
    """No new export while maintenance mode is not normal (nothing is written)."""

    def __init__(self, mode: str) -> None:
        super().__init__(f"Maintenance mode is {mode!r}: no new exports until it is back to normal.", mode=mode)


class ExportJobNotFound(NotFound, ExportError):
    default_detail = "Export job not found."


class IllegalTransition(Conflict, ExportError):
    default_detail = "That status change is not allowed."


class ExportNotReady(Conflict, ExportError):
    default_detail = "The export has not completed."


class ExportGone(Gone, ExportError):
    default_detail = "The export file is no longer available."


class ExportFailed(ExportError):
    """Raised while writing: the job ends `failed` with this message (row cap, format limits)."""


class ExportCancelled(ExportError):
    """Raised while writing when the job was cancelled; the partial file is removed."""


class ExportInterrupted(ExportError):
    """The database went away mid-export: the job is pending again and the task retries it."""
