"""Errors of the notifications app.

Domain errors subclass opsconsole.errors' kinds (no HTTP here: opsconsole's API handler maps
the kinds). Delivery errors are plain exceptions raised by channel backends; what each one
means for a notification is decided in notifications/delivery/policy.py.
"""

from __future__ import annotations

from opsconsole import errors
from opsconsole.errors import Conflict, InvalidInput, NotFound, Unprocessable


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


class IdempotencyKeyReused(Unprocessable):
    """The key names an earlier notification with other content (draft-ietf-httpapi-idempotency-key: 422)."""

    default_detail = "This Idempotency-Key was used for a different notification."


class IllegalTransition(errors.IllegalTransition):
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
