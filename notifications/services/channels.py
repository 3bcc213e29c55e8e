"""Writes of notification channels: create, validate, update, delete, rotate, pause, resume, test.

Every service staff, the API or a command can call is `@writes_guarded`: it refuses to
run while the maintenance mode is not normal (maintenance/guards.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils import timezone

from maintenance.guards import writes_guarded
from notifications.channels import get_backend
from notifications.channels.base import MOVED_REFUSAL
from notifications.channels.webhook import generate_secret
from notifications.conf import notify_settings
from notifications.exceptions import ChannelInUse, ChannelInvalid
from notifications.models import ChannelType, NotificationChannel, NotificationOutbox
from notifications.services.outbox import json_refusal, notification_enqueue, schedule_sweep

NAME_MAX = cast(int, NotificationChannel._meta.get_field("name").max_length)
TARGET_MAX = cast(int, NotificationChannel._meta.get_field("target").max_length)
MAX_ATTEMPTS_LIMIT = 50  # well inside max_attempts' PositiveSmallIntegerField (32767)
# Far above what any endpoint takes, and inside rate_limit_per_minute's integer column:
# a larger number used to reach PostgreSQL and come back as an overflow (a 500).
RATE_LIMIT_MAX = 100_000
UNSET: Any = object()


def channel_clean(
    *,
    channel: NotificationChannel | None = None,
    name: str = UNSET,
    channel_type: str = UNSET,
    target: str = UNSET,
    config: Any = UNSET,
    max_attempts: Any = UNSET,
    rate_limit_per_minute: Any = UNSET,
) -> dict[str, Any]:
    """Validate channel fields (new values over the channel's current ones); return the cleaned values.

    Raises ChannelInvalid with every field error at once.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if name is not UNSET or channel is None:
        _clean_name(name, channel, cleaned, errors)
    _clean_type(channel_type, channel, cleaned, errors)
    config_value = _clean_config(config, channel, cleaned, errors)
    if "channel_type" in cleaned and (target is not UNSET or channel is None or config is not UNSET):
        target_value = target if target is not UNSET else (channel.target if channel is not None else "")
        _clean_target(target_value, config_value, cleaned, errors)
    if max_attempts is not UNSET:
        if not _int_in(max_attempts, 1, MAX_ATTEMPTS_LIMIT):
            errors["max_attempts"] = [f"Must be an integer from 1 to {MAX_ATTEMPTS_LIMIT}."]
        else:
            cleaned["max_attempts"] = max_attempts
    if rate_limit_per_minute is not UNSET:
        if rate_limit_per_minute is not None and not _int_in(rate_limit_per_minute, 1, RATE_LIMIT_MAX):
            errors["rate_limit_per_minute"] = [f"Must be an integer from 1 to {RATE_LIMIT_MAX}, or null."]
        else:
            cleaned["rate_limit_per_minute"] = rate_limit_per_minute
    if errors:
        raise ChannelInvalid(f"Invalid channel: {', '.join(sorted(errors))}.", fields=errors)
    return cleaned


def _int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _clean_name(name: Any, channel: NotificationChannel | None, cleaned: dict, errors: dict) -> None:
    value = (name if name is not UNSET else "") or ""
    value = value.strip() if isinstance(value, str) else value
    if not isinstance(value, str) or not value:
        errors["name"] = ["This field is required."]
    elif len(value) > NAME_MAX:
        errors["name"] = [f"Ensure this field has no more than {NAME_MAX} characters."]
    elif NotificationChannel.objects.filter(name=value).exclude(pk=getattr(channel, "pk", None)).exists():  # type: ignore[misc]
        errors["name"] = ["A channel with this name already exists."]
    else:
        cleaned["name"] = value


def _clean_type(channel_type: Any, channel: NotificationChannel | None, cleaned: dict, errors: dict) -> None:
    type_value = channel_type if channel_type is not UNSET else (channel.channel_type if channel is not None else "")
    if channel is not None and channel_type is not UNSET and channel_type != channel.channel_type:
        errors["channel_type"] = ["The type of a channel cannot change; create a new channel."]
    elif type_value not in ChannelType.values:
        choices = ", ".join(ChannelType.values)
        errors["channel_type"] = [f"Unknown channel type {type_value!r}; choose one of {choices}."]
    else:
        cleaned["channel_type"] = type_value


def _clean_config(config: Any, channel: NotificationChannel | None, cleaned: dict, errors: dict) -> Any:
    """Validate the config (the new one, else the stored one, which the target is checked with); return it."""
    value = config if config is not UNSET else (channel.config if channel is not None else {})
    if value is None:
        value = {}
    if not isinstance(value, dict):
        errors["config"] = ["Must be a JSON object."]
    elif (refusal := json_refusal(value)) is not None:
        errors["config"] = [refusal]
    elif "channel_type" in cleaned:
        try:
            value = get_backend(cleaned["channel_type"]).clean_config(value)
            if config is not UNSET or channel is None:
                cleaned["config"] = value
        except ValueError as exc:
            errors["config"] = [str(exc)]
    return value


def _clean_target(target: Any, config: Any, cleaned: dict, errors: dict) -> None:
    if not isinstance(target, str):
        errors["target"] = ["Must be a string."]
    elif len(target) > TARGET_MAX:
        errors["target"] = [f"Ensure this field has no more than {TARGET_MAX} characters."]
    else:
        try:
            cleaned["target"] = get_backend(cleaned["channel_type"]).clean_target(
                target, config if isinstance(config, dict) else {}
            )
        except ValueError as exc:
            errors["target"] = [str(exc)]


@writes_guarded
@transaction.atomic
def channel_create(
    *,
    name: str,
    channel_type: str,
    target: str,
    active: bool = True,
    description: str | None = None,
    config: dict[str, Any] | None = None,
    max_attempts: int = 8,
    rate_limit_per_minute: int | None = None,
) -> NotificationChannel:
    """Create a channel; webhook channels get a new whsec_ secret (read it from the returned object once)."""
    cleaned = channel_clean(
        name=name,
        channel_type=channel_type,
        target=target,
        config=config if config is not None else {},
        max_attempts=max_attempts,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    channel = NotificationChannel(
        active=bool(active),
        description=description,
        secret=generate_secret() if get_backend(cleaned["channel_type"]).uses_secret else "",
        **cleaned,
    )
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError as exc:  # a concurrent create with the same name won the race
        raise ChannelInvalid(fields={"name": ["A channel with this name already exists."]}) from exc
    return channel


# What staff may set on a channel; the rest (health, secret) only the engine writes.
CHANNEL_EDITABLE_FIELDS = (
    "name",
    "channel_type",
    "target",
    "active",
    "description",
    "config",
    "max_attempts",
    "rate_limit_per_minute",
)


def channel_restore_credentials(*, channel: NotificationChannel, changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` with the masked (REDACTED) credentials a client sent back replaced by the stored ones.

    What the API and the admin show is redacted; sending it back means "keep what is stored" —
    but only while the target keeps its destination (scheme, host, port). When it moves, a
    stored credential would follow it to a server nobody gave it to: every masked value, and
    every stored config credential not given again, is a ChannelInvalid naming it.
    """
    backend = get_backend(channel.channel_type)
    changes = dict(changes)
    errors: dict[str, list[str]] = {}
    moved = False
    if isinstance(changes.get("target"), str):
        new_target = changes["target"]
        moved = new_target != backend.redact_target(channel.target) and backend.destination(
            new_target
        ) != backend.destination(channel.target)
        try:
            changes["target"] = backend.unredact_target(new_target, channel.target)
        except ValueError as exc:
            errors["target"] = [str(exc)]
    stored_config = channel.config or {}
    if isinstance(changes.get("config"), dict):
        try:
            changes["config"] = backend.unredact_config(changes["config"], stored_config, moved=moved)
        except ValueError as exc:
            errors["config"] = [str(exc)]
    elif moved and "config" not in changes and (stored := backend.config_credentials(stored_config)):
        names = ", ".join(f"config.{name}" for name in stored)
        errors["config"] = [
            f"{names}: {MOVED_REFUSAL}. Send config with the values for the new destination (or without them)."
        ]
    if errors:
        raise ChannelInvalid(f"Invalid channel: {', '.join(sorted(errors))}.", fields=errors)
    return changes


@writes_guarded
@transaction.atomic
def channel_update(*, channel: NotificationChannel, **changes: Any) -> NotificationChannel:
    """Change a channel's fields (name, target, active, description, config, max_attempts, rate_limit_per_minute)."""
    unknown = sorted(set(changes) - set(CHANNEL_EDITABLE_FIELDS))
    if unknown:
        raise ChannelInvalid(fields={key: ["This field cannot be changed."] for key in unknown})
    changes = channel_restore_credentials(channel=channel, changes=changes)
    validated = {k: v for k, v in changes.items() if k not in ("active", "description")}
    cleaned = channel_clean(channel=channel, **validated)
    cleaned.pop("channel_type", None)
    for field, value in cleaned.items():
        setattr(channel, field, value)
    if "description" in changes:
        channel.description = changes["description"]
    if "active" in changes:
        was_active, channel.active = channel.active, bool(changes["active"])
        if channel.active and not was_active:
            # Reactivated: the reason it was disabled no longer holds. (An active channel that is
            # paused keeps the reason of its pause; resume clears that one.)
            channel.disabled_reason = ""
    channel.save()
    return channel


@writes_guarded
@transaction.atomic
def channel_delete(*, channel: NotificationChannel) -> None:
    """Delete a channel that never had notifications; one with outbox rows must be deactivated instead."""
    if NotificationOutbox.objects.filter(channel=channel).exists():
        raise ChannelInUse(
            f"Channel {channel.name!r} has notifications in its outbox; deactivate it (PATCH active=false) instead.",
        )
    channel.delete()


@writes_guarded
@transaction.atomic
def channel_rotate_secret(*, channel: NotificationChannel) -> NotificationChannel:
    """Give a webhook channel a new whsec_ secret; the old one keeps signing alongside for the grace period.

    Rolling secrets (as Svix and Convoy do): for SECRET_GRACE_HOURS every delivery carries
    a signature with each secret, so a receiver verifies while it switches to the new one.
    Rotating again within the grace replaces the previous secret: at most two ever sign.
    """
    if not get_backend(channel.channel_type).uses_secret:
        raise ChannelInvalid(
            f"{channel.channel_type} channels have no signing secret.",
            fields={"channel_type": ["Only webhook channels have a secret."]},
        )
    grace = timedelta(hours=max(0.0, float(notify_settings.SECRET_GRACE_HOURS)))
    if channel.secret and grace:
        channel.previous_secret = channel.secret
        channel.previous_secret_expires_at = timezone.now() + grace
    else:
        channel.previous_secret, channel.previous_secret_expires_at = "", None
    channel.secret = generate_secret()
    channel.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return channel


@writes_guarded
@transaction.atomic
def channel_pause(*, channel: NotificationChannel, reason: str = "Paused by staff.") -> NotificationChannel:
    """Hold a channel's deliveries (they stay queued) until it is resumed."""
    NotificationChannel.objects.filter(pk=channel.pk).update(
        paused=True, disabled_reason=reason, updated_at=timezone.now()
    )
    channel.refresh_from_db()
    return channel


@writes_guarded
@transaction.atomic
def channel_resume(*, channel: NotificationChannel) -> NotificationChannel:
    """Deliver a paused channel's queue again, starting with a clean failure count."""
    NotificationChannel.objects.filter(pk=channel.pk).update(
        paused=False, consecutive_failures=0, disabled_reason="", updated_at=timezone.now()
    )
    channel.refresh_from_db()
    transaction.on_commit(schedule_sweep)
    return channel


@writes_guarded
def channel_send_test(*, channel: NotificationChannel) -> NotificationOutbox:
    """Queue a test notification on the channel (delivered and audited like any other)."""
    notification, _ = notification_enqueue(
        channel_id=channel.pk,
        subject="OpsConsole test notification",
        body=f"This is a test notification for channel {channel.name!r}.",
        payload={"test": True, "channel": channel.name},
    )
    return notification
