"""X-Request-ID: honour the caller's id (or make one), echo it, and stamp it on every log line of the request.

A proxy or a client that sends `X-Request-ID` finds the same id in our logs and in the
response. The header is only taken when it is a plausible id (at most 128 characters of
letters, digits and `._:+/=@-`): anything else, which could forge log lines or flood them,
is replaced by a new one.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from opsconsole.logs import request_id_var

HEADER = "X-Request-ID"
MAX_LENGTH = 128
_VALID = re.compile(rf"[A-Za-z0-9._:+/=@-]{{1,{MAX_LENGTH}}}")
# Probes hit these every few seconds: their lines are DEBUG, so an idle console stays quiet.
PROBE_PATHS = frozenset({"/health", "/health/", "/metrics", "/metrics/"})

logger = logging.getLogger("opsconsole.request")


def request_id_from(value: str | None) -> str:
    """The caller's id when it is a safe one, else a new one."""
    if value and _VALID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being served here, if any."""
    return request_id_var.get()


def forget_request_id(**_kwargs: object) -> None:
    """request_finished: the thread serves no request any more (connected in OpsConsoleConfig.ready)."""
    request_id_var.set(None)


class RequestIdMiddleware:
    """First in MIDDLEWARE: every response, even a redirect or an error page, carries the id.

    The id stays set until the response is closed (request_finished), not only while the
    middleware runs: Django logs a 4xx/5xx ("django.request") after the middleware chain
    has returned, and that line needs the id most.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get(HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[HEADER] = request_id
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        logger.log(
            logging.DEBUG if request.path in PROBE_PATHS else logging.INFO,
            "%s %s %s %.0f ms",
            request.method,
            request.path,
            response.status_code,
            elapsed_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": elapsed_ms,
            },
        )
        return response
