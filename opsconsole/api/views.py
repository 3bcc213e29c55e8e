from django.http import JsonResponse
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


def server_error(request):
    """handler500: JSON under /system, where clients parse every answer."""
    if not _is_api(request):
        return defaults.server_error(request)
    return JsonResponse({"detail": "Internal server error; it has been logged."}, status=500)
