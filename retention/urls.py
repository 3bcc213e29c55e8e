"""/system/retention: every path works with and without its trailing slash.

The fixed paths come before `{category}`, whose names contain dots (notifications.outbox)
and would otherwise swallow "categories", "purge" and "runs".
"""

from django.urls import re_path

from retention import api

app_name = "retention"
urlpatterns = [
    re_path(r"^retention/?$", api.PolicyListCreateView.as_view(), name="policy-list"),
    re_path(r"^retention/categories/?$", api.CategoryListView.as_view(), name="category-list"),
    re_path(r"^retention/purge/?$", api.PurgeView.as_view(), name="purge"),
    re_path(r"^retention/runs/?$", api.PurgeRunListView.as_view(), name="run-list"),
    re_path(r"^retention/runs/(?P<pk>[0-9]+)/?$", api.PurgeRunDetailView.as_view(), name="run-detail"),
    re_path(r"^retention/(?P<category>[^/]+)/?$", api.PolicyDetailView.as_view(), name="policy-detail"),
]
