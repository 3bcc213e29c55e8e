"""The domain error kinds every app's exceptions subclass. No HTTP here.

Services raise these; whoever serves a door decides what a kind means there: the /system
API's handler (opsconsole/api/exceptions.py) maps each kind to a status, the admin turns
them into messages, commands into exit codes. Errors that steer an engine (an export
that must end `failed`, a delivery to retry) are plain exceptions of their app, not
these: they never reach a client as a 4xx.
"""

from __future__ import annotations

from typing import Any


class OpsConsoleError(Exception):
    """Base of every domain error: a detail for people, optional per-field errors, extra JSON."""

    default_detail = "Request failed."

    def __init__(self, detail: str | None = None, *, fields: dict[str, Any] | None = None, **extra: Any):
        self.detail = detail or self.default_detail
        self.fields = fields or {}
        self.extra = extra
        super().__init__(self.detail)


class InvalidInput(OpsConsoleError):
    """The request itself is wrong (a field, a filter, a value out of range)."""

    default_detail = "Invalid input."


class Unprocessable(OpsConsoleError):
    """Well-formed, but contradicts earlier requests (an Idempotency-Key reused for other content)."""

    default_detail = "The request cannot be processed."


class Forbidden(OpsConsoleError):
    default_detail = "You do not have permission to perform this action."


class NotFound(OpsConsoleError):
    default_detail = "Not found."


class Conflict(OpsConsoleError):
    """The current state forbids the change."""

    default_detail = "Conflict with the current state."


class IllegalTransition(Conflict):
    """A state change the state machine forbids (every app's one kind of it)."""

    default_detail = "That state change is not allowed."


class Gone(OpsConsoleError):
    default_detail = "No longer available."


class Unavailable(OpsConsoleError):
    """Not now: maintenance mode, a missing broker; `retry_after` in extra when known."""

    default_detail = "Temporarily unavailable."
