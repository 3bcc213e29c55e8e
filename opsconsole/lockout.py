"""The page django-axes answers with while a username + address pair is locked out of the admin login."""

from __future__ import annotations

import math
from typing import Any

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """429 with Retry-After: a page for browsers, JSON for scripts (AXES_LOCKOUT_CALLABLE)."""
    cool_off = get_cool_off(request)
    seconds = math.ceil(cool_off.total_seconds()) if cool_off else None
    username = get_client_username(request, credentials) or ""
    limit = get_failure_limit(request, credentials)
    if "json" in request.META.get("HTTP_ACCEPT", ""):
        response: HttpResponse = JsonResponse(
            {"detail": "Too many failed sign-ins: locked out for now.", "retry_after": seconds}, status=429
        )
    else:
        context = {
            "failure_limit": limit,
            "username": username,
            "cooloff_minutes": math.ceil(seconds / 60) if seconds else 0,
        }
        response = HttpResponse(render_to_string("lockout.html", context, request=request), status=429)
    if seconds is not None:
        response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response
