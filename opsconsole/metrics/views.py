"""GET /metrics: open, or behind `Authorization: Bearer $OPSCONSOLE_METRICS_TOKEN` when that is set."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from opsconsole.metrics.collector import metrics_render

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


@never_cache
@csrf_exempt  # so that a POST learns it is the wrong method (405), not a CSRF 403
def metrics_view(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse("Only GET and HEAD are allowed.\n", status=405, content_type="text/plain")
        response["Allow"] = "GET, HEAD"
        return response
    if not _authorized(request):
        response = HttpResponse("A valid bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    try:
        body = metrics_render()
    except DatabaseError as exc:
        # A scrape that fails is what Prometheus alerts on (`up == 0`); half the families
        # would break rate() on the counters left out instead.
        logger.warning("metrics: the database is unreachable: %s", exc)
        response = HttpResponse("The database is unreachable.\n", status=503, content_type="text/plain")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)  # what generate_latest writes


def _authorized(request: HttpRequest) -> bool:
    token = getattr(settings, "OPSCONSOLE_METRICS_TOKEN", "")
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
