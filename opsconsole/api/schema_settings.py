"""drf-spectacular's settings for the /system schema (SPECTACULAR_SETTINGS in settings.py).

Plain values only: settings.py imports this module before Django is set up.
"""

API_SCHEMA_SETTINGS = {
    "TITLE": "OpsConsole /system API",
    "DESCRIPTION": "Notifications, exports, retention and maintenance for operators.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs are part of the staff-only /system API.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name per choice set, shared by every field that uses it.
    "ENUM_NAME_OVERRIDES": {
        "MaintenanceModeEnum": "maintenance.models.Mode",
        "ChannelTypeEnum": "notifications.models.ChannelType",
        "NotificationStatusEnum": "notifications.models.NotificationStatus",
        "AttemptOutcomeEnum": "notifications.models.AttemptOutcome",
        "ExportJobStatusEnum": "exports.models.JobStatus",
        "ExportFormatEnum": "exports.models.ExportFormat",
        "PurgeTriggerEnum": "retention.models.PurgeTrigger",
        "PurgeStatusEnum": "retention.models.PurgeStatus",
    },
}
