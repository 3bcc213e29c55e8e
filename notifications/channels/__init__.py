"""Channel backends: one class per channel type, registered by type name."""

from __future__ import annotations

from notifications.channels.apprise import AppriseBackend
from notifications.channels.base import (
    ChannelBackend,
    ChannelSnapshot,
    DeliveryContext,
    DeliveryReport,
    OutgoingMessage,
)
from notifications.channels.email import EmailBackend
from notifications.channels.log import LogBackend
from notifications.channels.slack import SlackBackend
from notifications.channels.webhook import WebhookBackend

BACKENDS: dict[str, ChannelBackend] = {
    backend.channel_type: backend
    for backend in (EmailBackend(), WebhookBackend(), SlackBackend(), AppriseBackend(), LogBackend())
}


def get_backend(channel_type: str) -> ChannelBackend:
    """The backend of a channel type; KeyError for an unknown type."""
    return BACKENDS[channel_type]


__all__ = [
    "BACKENDS",
    "ChannelBackend",
    "ChannelSnapshot",
    "DeliveryContext",
    "DeliveryReport",
    "OutgoingMessage",
    "get_backend",
]
