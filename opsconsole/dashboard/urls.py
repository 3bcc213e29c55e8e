"""Mounted at /admin/ ahead of the admin's own urls: these paths win, the rest fall through."""

from django.contrib import admin
from django.urls import path, re_path

from opsconsole.dashboard import views

urlpatterns = [
    # The admin's index path: admin_view adds the login redirect, never_cache and CSRF.
    path("", admin.site.admin_view(views.index), name="dashboard"),
    re_path(r"^dashboard/data/?$", views.chart_data, name="dashboard-data"),
]
