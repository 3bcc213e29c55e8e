"""Errors of the sources app, on the kinds of opsconsole/errors.py (no HTTP here)."""

from __future__ import annotations

from typing import Any

from opsconsole.errors import Conflict, InvalidInput, NotFound, OpsConsoleError, Unavailable


class SourcesError(OpsConsoleError):
    """Base of every sources error."""


class InvalidSourceRequest(SourcesError, InvalidInput):
    """A field of a registration that introspection does not confirm."""


class UnknownSource(SourcesError, InvalidInput):
    def __init__(self, name: Any, known: list[str], *, field: str = "source"):
        known_text = ", ".join(known) or "none (set OPSCONSOLE_SOURCE_<NAME>_URL)"
        message = f"Unknown source {name!r}. Configured sources: {known_text}."
        super().__init__(message, fields={field: [message]})


class SourceNotFound(SourcesError, NotFound):
    default_detail = "No such source."


class SourceUnreachable(SourcesError, Unavailable):
    """The source database does not answer: nothing can be checked against it now."""


class TableAlreadyRegistered(SourcesError, Conflict):
    default_detail = "This table is already registered."


class SourceReadOnly(SourcesError, Conflict):
    """A write (a purge, the relay) on a source configured with OPSCONSOLE_SOURCE_<NAME>_READONLY=1."""

    def __init__(self, name: str, what: str):
        super().__init__(
            f"Source {name!r} is read-only (OPSCONSOLE_SOURCE_{name.upper()}_READONLY=1): {what} refused.",
            source=name,
        )
