"""Errors of the notifications app: API-facing ones map to HTTP through opsconsole's handler;
delivery ones are raised by channel backends and decide what happens to a notification."""

from __future__ import annotations

from rest_framework import status

from opsconsole.api.exceptions import Conflict, InvalidInput, NotFound, OpsConsoleError


class ChannelInvalid(InvalidInput):
    default_detail = "Invalid channel."


class ChannelNotFound(NotFound):
    default_detail = "Channel not found."


class ChannelInactive(InvalidInput):
    default_detail = "Channel is inactive."


class ChannelInUse(Conflict):
    default_detail = "Channel has notifications; deactivate it instead of deleting it."


class NotificationInvalid(InvalidInput):
    default_detail = "Invalid notification."


class IdempotencyKeyReused(OpsConsoleError):
    """The key names an earlier notification with other content (draft-ietf-httpapi-idempotency-key: 422)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used for a different notification."


class NotificationNotFound(NotFound):
    default_detail = "Notification not found."


class IllegalTransition(Conflict):
    default_detail = "The notification's state does not allow this."


class UnsafeTarget(Exception):
    """The target resolves to an address we must not connect to (SSRF guard)."""


class UnresolvableHost(UnsafeTarget):
    """The target's host does not resolve: refused at creation, retried at delivery (DNS may recover)."""


class DeliveryError(Exception):
    """A delivery attempt did not succeed. Subclasses say what to do next."""

    def __init__(self, error: str, *, http_status: int | None = None, response_excerpt: str = ""):
        self.error = error
        self.http_status = http_status
        self.response_excerpt = response_excerpt
        super().__init__(error)


class RetryableDeliveryError(DeliveryError):
    """Try again later (408, 429, 5xx, network errors); `retry_after` seconds when the peer said so."""

    def __init__(self, error: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(error, **kwargs)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help (4xx other than 408/429, refused target, bad address)."""


class ChannelGone(PermanentDeliveryError):
    """The endpoint answered 410 Gone: the channel is disabled."""
