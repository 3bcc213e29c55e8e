"""The read-only shield: refuse writes while the service is not in normal mode."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from maintenance.exceptions import WritesBlocked
from maintenance.guards import database_writes_blocked
from maintenance.models import Mode
from maintenance.state import NORMAL, MaintenanceSnapshot, local_snapshot, memo_snapshot, read_shared

logger = logging.getLogger(__name__)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PAGE_METHODS = frozenset({"GET", "HEAD"})
NO_WRITE_PATHS = ("/health",)


def wants_json(request: HttpRequest) -> bool:
    """API clients (the /system API, JSON Accept or Content-Type) get JSON, browsers a page."""
    if request.path_info.startswith("/system"):
        return True
    accept = request.META.get("HTTP_ACCEPT", "")
    content_type = request.META.get("CONTENT_TYPE", "")
    return "json" in accept or "json" in content_type


def refusal(request: HttpRequest, snapshot: MaintenanceSnapshot) -> HttpResponse:
    """503 with Retry-After: JSON `{"detail", "mode", "retry_after"}` or templates/maintenance.html."""
    retry_after = snapshot.retry_after_now()
    if snapshot.mode == Mode.MAINTENANCE:
        default = "The service is down for maintenance. Try again later."
    else:
        default = "The service is read-only for now: changes are refused. Try again later."
    detail = snapshot.message or default
    if wants_json(request):
        body = json.dumps({"detail": detail, "mode": snapshot.mode, "retry_after": retry_after})
        response = HttpResponse(body, status=503, content_type="application/json")
    else:
        context = {
            "mode": snapshot.mode,
            "mode_label": Mode(snapshot.mode).label,
            "detail": detail,
            "until": snapshot.until,
            "retry_after": retry_after,
            "admin_login_url": _admin_url("admin:login"),
        }
        response = HttpResponse(render_to_string("maintenance.html", context, request=request), status=503)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    # Answered before XFrameOptionsMiddleware (inner) runs, so set its header here.
    response["X-Frame-Options"] = getattr(settings, "X_FRAME_OPTIONS", "DENY")
    # An expected refusal, not a server error: keep Django from logging each one at ERROR.
    response._has_been_logged = True  # type: ignore[attr-defined]
    logger.info("maintenance: refused %s %s (%s mode)", request.method, request.path, snapshot.mode)
    return response


def _admin_url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def admin_handles_refusal(request: HttpRequest) -> bool:
    """Whether a refused write is a browser's POST to an admin view that answers refusals itself."""
    if request.method != "POST" or wants_json(request):
        return False
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    model_admin = getattr(match.func, "model_admin", None)  # set by ModelAdmin.get_urls on its views
    return bool(getattr(model_admin, "handles_refused_writes", False))


def exempt_path_pattern() -> re.Pattern[str]:
    """Paths that stay writable so staff can turn the shield off, as one compiled regex."""
    prefixes = [r"/system/maintenance(?:/|$)", r"/health(?:/|$)"]
    for name in ("admin:maintenance_maintenancestate_changelist", "admin:login", "admin:logout"):
        url = _admin_url(name)
        if url:
            prefixes.append(re.escape(url))
    return re.compile("|".join(prefixes))


class ReadOnlyShieldMiddleware:
    """Refuse writes with 503 while the mode is not normal (README "What read-only blocks").

    Put it after AuthenticationMiddleware (maintenance mode lets staff browse). In normal
    mode it costs one memo check: no database query, no URL resolving, usually no cache
    read. While not normal:
    1. POST/PUT/PATCH/DELETE outside the exempt paths get 503 + Retry-After, except a
       browser's POST to an admin view whose ModelAdmin says `handles_refused_writes`:
       that goes on to the admin marked `request.writes_refused`, under 3, and the admin
       answers with the form and what was typed, or a message (opsconsole/admin_readonly.py).
    2. In maintenance mode, non-staff page views get the maintenance page too.
    3. Any other request runs inside `database_writes_blocked` (maintenance/guards.py, the
       one rule of what read-only blocks): a database write becomes WritesBlocked, a 503,
       so a GET view that writes cannot slip through.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._exempt: re.Pattern[str] | None = None
        # In maintenance mode these GETs still pass for everyone: the API answers non-staff
        # itself (403), and static files are needed by the admin login page.
        self._page_exempt = ("/system",) + tuple(
            p for p in (settings.STATIC_URL, settings.MEDIA_URL) if p and p.startswith("/")
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        snapshot = memo_snapshot()
        if snapshot is None:
            # Once a second at most: /health must not write, not even to fill the cache.
            snapshot = read_shared(publish=not request.path_info.startswith(NO_WRITE_PATHS))
        if snapshot.mode == NORMAL:
            return self.get_response(request)
        return self._shielded(request, snapshot)

    def _shielded(self, request: HttpRequest, snapshot: MaintenanceSnapshot) -> HttpResponse:
        if snapshot.is_expired():
            return self.get_response(request)
        if self._exempt is None:
            # Compiled on first use, when the URLconf is loaded, then never resolved again.
            self._exempt = exempt_path_pattern()
        path = request.path_info
        if self._exempt.match(path):
            return self.get_response(request)
        method = request.method
        if method in WRITE_METHODS:
            if not admin_handles_refusal(request):
                return refusal(request, snapshot)
            request.writes_refused = snapshot  # type: ignore[attr-defined]
        if (
            snapshot.mode == Mode.MAINTENANCE
            and method in PAGE_METHODS
            and not path.startswith(self._page_exempt)
            and not getattr(getattr(request, "user", None), "is_staff", False)
        ):
            return refusal(request, snapshot)
        request.maintenance_snapshot = snapshot  # type: ignore[attr-defined]
        with database_writes_blocked("web request"):
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, WritesBlocked):
            snapshot = getattr(request, "maintenance_snapshot", None) or local_snapshot()
            return refusal(request, snapshot)
        return None
