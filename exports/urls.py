"""/system/exports: every path works with and without its trailing slash."""

from django.urls import re_path

from exports import api

app_name = "exports"
urlpatterns = [
    re_path(r"^exports/?$", api.ExportJobListCreateView.as_view(), name="job-list"),
    re_path(r"^exports/datasets/?$", api.DatasetListView.as_view(), name="datasets"),
    re_path(r"^exports/(?P<pk>[0-9]+)/?$", api.ExportJobDetailView.as_view(), name="job-detail"),
    re_path(r"^exports/(?P<pk>[0-9]+)/status/?$", api.ExportJobStatusView.as_view(), name="job-status"),
    re_path(r"^exports/(?P<pk>[0-9]+)/download/?$", api.ExportJobDownloadView.as_view(), name="job-download"),
]
