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
