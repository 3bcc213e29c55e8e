from django.urls import re_path

from maintenance.api import MaintenanceHistoryView, MaintenanceStateView

app_name = "maintenance"
# /system/maintenance: every path works with and without its slash.
urlpatterns = [
    re_path(r"^maintenance/?$", MaintenanceStateView.as_view(), name="state"),
    re_path(r"^maintenance/history/?$", MaintenanceHistoryView.as_view(), name="history"),
]
