"""Every write staff, the API and commands make: channels (services/channels.py) and the outbox
(services/outbox.py). The delivery engine's own writes (claims, results) are in notifications/delivery/."""

from notifications.services.channels import (
    CHANNEL_EDITABLE_FIELDS,
    MAX_ATTEMPTS_LIMIT,
    RATE_LIMIT_MAX,
    channel_clean,
    channel_create,
    channel_delete,
    channel_pause,
    channel_restore_credentials,
    channel_resume,
    channel_rotate_secret,
    channel_send_test,
    channel_update,
)
from notifications.services.outbox import (
    notification_cancel,
    notification_enqueue,
    notification_replay,
    notification_retry,
)

__all__ = [
    "CHANNEL_EDITABLE_FIELDS",
    "MAX_ATTEMPTS_LIMIT",
    "RATE_LIMIT_MAX",
    "channel_clean",
    "channel_create",
    "channel_delete",
    "channel_pause",
    "channel_restore_credentials",
    "channel_resume",
    "channel_rotate_secret",
    "channel_send_test",
    "channel_update",
    "notification_cancel",
    "notification_enqueue",
    "notification_replay",
    "notification_retry",
]
