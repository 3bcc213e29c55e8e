"""The admin index with the dashboard, and the JSON its charts refresh from."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from opsconsole.dashboard import selectors


def index(request: HttpRequest) -> HttpResponse:
    """The admin's own index (app list, recent actions) with the dashboard figures on top."""
    figures = selectors.dashboard_figures(user=request.user)
    return admin.site.index(request, extra_context={"dashboard": figures})


@never_cache
@require_GET
def chart_data(request: HttpRequest) -> JsonResponse:
    """Chart series for the dashboard's periodic refresh; staff with view permission on the outbox only."""
    user = request.user
    if not user.is_authenticated:
        return JsonResponse({"detail": "Log in to the admin first."}, status=401)
    panel = selectors.chart_panel()
    if not admin.site.has_permission(request) or panel is None or panel.name not in selectors.visible_panels(user):
        return JsonResponse({"detail": "Staff with view permission on the outbox only."}, status=403)
    return JsonResponse(selectors.chart_data())
