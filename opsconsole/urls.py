"""Root URLs: the admin, /health and the /system API (each app mounts its own urls)."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from opsconsole import health
from opsconsole.api.views import SystemRootView, not_found
from opsconsole.metrics.views import metrics_view

handler400 = "opsconsole.api.views.bad_request"
handler500 = "opsconsole.api.views.server_error"

admin.site.site_header = "OpsConsole"
admin.site.site_title = "OpsConsole"
admin.site.index_title = "Operations"

urlpatterns = [
    re_path(r"^health/?$", health.health_view, name="health"),
    re_path(r"^metrics/?$", metrics_view, name="metrics"),
    # Browsers ask for /favicon.ico on every page (the API docs too): a 404 was a console error each time.
    path("favicon.ico", RedirectView.as_view(url=static("opsconsole/favicon.ico"), permanent=True)),
    re_path(r"^system/?$", SystemRootView.as_view(), name="system-root"),
    re_path(r"^system/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^system/docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    re_path(r"^system/redoc/?$", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # Each app's patterns begin with its own segment and end in `/?$` (`^notify/channels/?$`):
    # every path answers with and without its trailing slash, without a redirect that would
    # drop a POST body, and `/system/notify5` matches none of them.
    re_path(r"^system/", include("notifications.urls")),
    re_path(r"^system/", include("exports.urls")),
    re_path(r"^system/", include("retention.urls")),
    re_path(r"^system/", include("maintenance.urls")),
    re_path(r"^system/", include("sources.urls")),
    re_path(r"^system/", not_found),
    # The dashboard replaces the admin index; every other admin path falls through.
    path("admin/", include("opsconsole.dashboard.urls")),
    path("admin/", admin.site.urls),
]
