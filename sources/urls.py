"""/system/sources: every path works with and without its trailing slash.

The fixed paths come before `{source}/tables`.
"""

from django.urls import re_path

from sources import api

app_name = "sources"
urlpatterns = [
    re_path(r"^sources/?$", api.SourceListView.as_view(), name="source-list"),
    re_path(r"^sources/tables/?$", api.SourceTableListCreateView.as_view(), name="table-list"),
    re_path(r"^sources/tables/(?P<pk>[0-9]+)/?$", api.SourceTableDetailView.as_view(), name="table-detail"),
    re_path(r"^sources/outbox/?$", api.SourceOutboxView.as_view(), name="outbox"),
    re_path(r"^sources/outbox/retry/?$", api.SourceOutboxRetryView.as_view(), name="outbox-retry"),
    re_path(
        r"^sources/(?P<source>[a-z][a-z0-9_]*)/tables/?$",
        api.SourceTablesIntrospectionView.as_view(),
        name="introspect",
    ),
]
