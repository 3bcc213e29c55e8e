"""GET /health: no auth, no writes; 503 only when the database is unreachable."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_safe


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "unreachable" to a health check
        return {"status": "down", "error": str(exc)[:200]}
    return {"status": "ok"}


@require_safe
def health_view(request):
    checks = {"database": check_database()}
    status = "ok" if all(c["status"] == "ok" for c in checks.values()) else "down"
    return JsonResponse({"status": status, "checks": checks}, status=200 if status == "ok" else 503)
