"""Errors of the export app.

The domain errors subclass the kinds of opsconsole/errors.py (no HTTP here: the /system
handler maps kinds to statuses). The engine's control-flow exceptions (ExportFailed,
ExportCancelled, ExportInterrupted) are plain exceptions: they steer a running job to its
end state and never reach a client.
"""

from __future__ import annotations

from opsconsole import errors


class ExportError(errors.OpsConsoleError):
    """Base of every export error a caller may see."""


class UnknownDataset(errors.InvalidInput, ExportError):
    default_detail = "Unknown dataset."


class InvalidExportRequest(errors.InvalidInput, ExportError):
    default_detail = "Invalid export request."


class DatasetForbidden(errors.Forbidden, ExportError):
    """The user may not read the rows of a dataset (Django's view permission on its model)."""

    default_detail = "You may not export this dataset."


class ExportsPaused(errors.Unavailable, ExportError):
    """No new export while maintenance mode is not normal (nothing is written)."""

    def __init__(self, mode: str) -> None:
        super().__init__(f"Maintenance mode is {mode!r}: no new exports until it is back to normal.", mode=mode)


class ExportJobNotFound(errors.NotFound, ExportError):
    default_detail = "Export job not found."


class IllegalTransition(errors.IllegalTransition, ExportError):
    default_detail = "That status change is not allowed."


class ExportNotReady(errors.Conflict, ExportError):
    default_detail = "The export has not completed."


class ExportGone(errors.Gone, ExportError):
    default_detail = "The export file is no longer available."


class ExportStopped(Exception):
    """Base of the engine's control flow: a running job must end now (not an error a client sees)."""


class ExportFailed(ExportStopped):
    """Raised while writing: the job ends `failed` with this message (row cap, format limits)."""


class ExportCancelled(ExportStopped):
    """Raised while writing when the job was cancelled; the partial file is removed."""


class ExportInterrupted(ExportStopped):
    """The database went away mid-export: the job is pending again and the task retries it."""
