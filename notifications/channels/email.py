"""Email through Django's configured email backend (SMTP in production)."""

from __future__ import annotations

import email.utils
import json
import smtplib
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email

from notifications.channels.base import ChannelBackend, DeliveryContext, DeliveryReport, OutgoingMessage
from notifications.delivery import policy

CONNECTION_KEY = "email-connection"


def split_addresses(target: str) -> list[str]:
    return [address.strip() for address in (target or "").split(",") if address.strip()]


def _open_connection() -> BaseEmailBackend:
    connection = get_connection(fail_silently=False)
    connection.open()
    return connection


class EmailBackend(ChannelBackend):
    """Send through `get_connection()`; one open connection per delivery thread, reused."""

    channel_type = "email"
    config_keys = frozenset({"from_email", "reply_to"})

    def clean_target(self, target: str, config: dict[str, Any]) -> str:
        addresses = split_addresses(target)
        if not addresses:
            raise ValueError("Enter at least one email address.")
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValueError(f"Invalid email address: {', '.join(bad)}.")
        return ", ".join(addresses)

    def clean_config(self, config: dict[str, Any]) -> dict[str, Any]:
        config = super().clean_config(config)
        for key in ("from_email", "reply_to"):
            if key in config:
                try:
                    validate_email(config[key])
                except (ValidationError, TypeError) as exc:
                    raise ValueError(f"{key} must be a valid email address.") from exc
        return config

    def build(self, message: OutgoingMessage) -> EmailMessage:
        config = message.channel.config
        body = message.body
        if message.payload:
            body += "\n\n" + json.dumps(message.payload, indent=2, ensure_ascii=False)
        first_line = message.body.strip().splitlines()[0][:120] if message.body.strip() else "Notification"
        subject = message.subject or first_line
        from_email = config.get("from_email") or settings.DEFAULT_FROM_EMAIL
        domain = email.utils.parseaddr(from_email)[1].rpartition("@")[2] or "opsconsole.localdomain"
        return EmailMessage(
            subject=subject,
            body=body,
            from_email=from_email,
            to=split_addresses(message.channel.target),
            reply_to=[config["reply_to"]] if config.get("reply_to") else None,
            # The same Message-ID on every retry, so a mail client shows a redelivery once.
            headers={"X-OpsConsole-Message-Id": message.message_id, "Message-ID": f"<{message.message_id}@{domain}>"},
        )

    def send(self, message: OutgoingMessage, context: DeliveryContext) -> DeliveryReport:
        email = self.build(message)
        try:
            connection = context.thread_resource(CONNECTION_KEY, _open_connection, lambda c: c.close())
            email.connection = connection
            sent = email.send(fail_silently=False)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            if not isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
                # The session may be broken or mid-transaction: the next delivery opens a new one.
                self._forget_connection(context)
            raise policy.delivery_error(policy.smtp_ruling(exc)) from exc
        if not sent:
            raise policy.delivery_error(policy.Ruling(policy.Verdict.RETRY, "mail backend reported nothing sent"))
        return DeliveryReport(response_excerpt=f"accepted for {len(email.to)} recipient(s)")

    def _forget_connection(self, context: DeliveryContext) -> None:
        # A broken SMTP session is not reused; the next delivery on this thread opens a new one.
        context.drop_thread_resource(CONNECTION_KEY)
