import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView


class SystemRootView(APIView):
    """Where each part of the /system API lives."""

    @extend_schema(exclude=True)
    def get(self, request):
        def url(path: str) -> str:
            return request.build_absolute_uri(path)

        return Response(
            {
                "notify": url("/system/notify/"),
                "exports": url("/system/exports/"),
                "retention": url("/system/retention/"),
                "maintenance": url("/system/maintenance/"),
                "schema": reverse("schema", request=request),
                "docs": reverse("swagger-ui", request=request),
                "health": reverse("health", request=request),
            }
        )


@csrf_exempt  # it writes nothing, whatever the method
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Any /system path no route matches: a JSON 404 for API clients, not Django's HTML page."""
    return JsonResponse(
        {"detail": f"No /system endpoint at {request.path}. The index of the API is at /system/."}, status=404
    )


def _is_api(request) -> bool:
    return request.path == "/system" or request.path.startswith("/system/")


def bad_request(request, exception=None):
    """handler400: JSON under /system (e.g. a body over DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    detail = str(exception) if exception else "Bad request."
    return JsonResponse({"detail": detail or "Bad request."}, status=400)


DATABASE_RETRY_AFTER = 5


def server_error(request):
    """handler500: JSON under /system, where clients parse every answer.

    An unreachable or lost database (a restart, a failover, a killed connection) is not a
    bug of ours but a moment to wait: 503 with Retry-After, JSON for API clients and a page
    for browsers. Django calls this inside its `except` block, so the exception is at hand.
    """
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return database_unavailable(request)
    if not _is_api(request):
        return defaults.server_error(request)
    return JsonResponse({"detail": "Internal server error; it has been logged."}, status=500)


def database_unavailable(request) -> HttpResponse:
    detail = "The database is unavailable for a moment; please retry."
    if _is_api(request) or "text/html" not in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse({"detail": detail}, status=503)
    else:
        # No request context: its processors would ask the database for the user.
        page = render_to_string("database_unavailable.html", {"detail": detail, "retry_after": DATABASE_RETRY_AFTER})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response
