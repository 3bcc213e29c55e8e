"""The one DRF handler that maps domain errors (opsconsole/errors.py) and DRF's own to JSON.

Apps subclass the kinds of opsconsole/errors.py in their own exceptions.py; services raise
them; views never build error responses by hand.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from opsconsole.api.throttling import auth_failure_record
from opsconsole.errors import (  # noqa: F401 - re-exported
    Conflict,
    Forbidden,
    Gone,
    IllegalTransition,
    InvalidInput,
    NotFound,
    OpsConsoleError,
    Unavailable,
    Unprocessable,
)

# The kinds live in opsconsole/errors.py (no HTTP there); re-exported for old imports.
STATUS_BY_KIND: tuple[tuple[type[OpsConsoleError], int], ...] = (
    (InvalidInput, status.HTTP_400_BAD_REQUEST),
    (Forbidden, status.HTTP_403_FORBIDDEN),
    (NotFound, status.HTTP_404_NOT_FOUND),
    (Conflict, status.HTTP_409_CONFLICT),
    (Gone, status.HTTP_410_GONE),
    (Unprocessable, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (Unavailable, status.HTTP_503_SERVICE_UNAVAILABLE),
)


def status_of(exc: OpsConsoleError) -> int:
    """The HTTP status of a domain error: its kind's, first match in STATUS_BY_KIND order."""
    for kind, code in STATUS_BY_KIND:
        if isinstance(exc, kind):
            return code
    return status.HTTP_400_BAD_REQUEST


def _field_errors(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {key: value if isinstance(value, list | dict) else [value] for key, value in detail.items()}
    return {}


class TooManyAuthFailures(drf_exceptions.Throttled):
    default_detail = "Too many failed authentications from this address."


def _throttled_detail(exc: drf_exceptions.Throttled, retry_after: int | None) -> str:
    if isinstance(exc, TooManyAuthFailures):
        base = str(exc.detail)
    else:
        base = "Too many requests: your rate limit for the /system API is used up."
    return f"{base} Try again in {retry_after} seconds." if retry_after is not None else base


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn app, Django and DRF exceptions into `{"detail": ..., "errors": {...}}` JSON."""
    if isinstance(exc, OpsConsoleError):
        body: dict[str, Any] = {"detail": exc.detail}
        if exc.fields:
            body["errors"] = exc.fields
        body.update(exc.extra)
        response = Response(body, status=status_of(exc))
        retry_after = exc.extra.get("retry_after")
        if retry_after is not None:
            response["Retry-After"] = str(retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = drf_exceptions.ValidationError(exc.message_dict)
        else:
            exc = drf_exceptions.ValidationError({"non_field_errors": exc.messages})
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    elif isinstance(exc, drf_exceptions.AuthenticationFailed):
        wait = auth_failure_record(context.get("request"))
        if wait is not None:
            exc = TooManyAuthFailures(wait=wait)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        if isinstance(exc.detail, list):
            errors = {"non_field_errors": exc.detail}
        fields = ", ".join(sorted(errors)) or "input"
        response.data = {"detail": f"Invalid input: {fields}.", "errors": errors}
    elif isinstance(exc, drf_exceptions.Throttled):
        # DRF has set Retry-After (whole seconds, rounded up); say the same in the body, as the shield does.
        retry_after = math.ceil(exc.wait) if exc.wait is not None else None
        response.data = {"detail": _throttled_detail(exc, retry_after), "retry_after": retry_after}
    elif isinstance(response.data, dict) and "detail" not in response.data:
        response.data = {"detail": str(exc), "errors": response.data}
    return response
