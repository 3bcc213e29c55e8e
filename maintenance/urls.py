from django.urls import re_path

from maintenance.api import MaintenanceHistoryView, MaintenanceStateView

app_name = "maintenance"
# Mounted at ^system/maintenance(?=/|$)/? : every path works with and without its slash.
urlpatterns = [
    re_path(r"^/?$", MaintenanceStateView.as_view(), name="state"),
    re_path(r"^/history/?$", MaintenanceHistoryView.as_view(), name="history"),
]
