"""Write requests under /system take their input in the JSON body only."""

from __future__ import annotations

from django.http import JsonResponse

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class NoQueryOnWritesMiddleware:
    """A query parameter on a /system write is refused (400 naming it), as GETs refuse unknown ones.

    No write endpoint reads its query string, so `POST /system/maintenance/?mode=normal`
    would otherwise do something other than what its sender meant, silently.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in WRITE_METHODS and request.GET and request.path_info.startswith("/system/"):
            names = sorted(request.GET)
            return JsonResponse(
                {
                    "detail": f"Unknown query parameter: {', '.join(names)}. Writes take their input in the JSON body.",
                    "errors": {name: ["Write requests take no query parameters."] for name in names},
                },
                status=400,
            )
        return self.get_response(request)
