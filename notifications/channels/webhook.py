"""Signed webhooks (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature)."""

from __future__ import annotations

import base64
import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from standardwebhooks.webhooks import Webhook

from notifications.channels.base import (
    MOVED_REFUSAL,
    REDACTED,
    DeliveryContext,
    DeliveryReport,
    OutgoingMessage,
    post_json,
)
from notifications.channels.http import HttpChannelBackend
from notifications.exceptions import PermanentDeliveryError

# Headers a channel's config may not override: they carry the signature, or they frame the
# request (a Transfer-Encoding next to http.client's Content-Length would garble the body).
RESERVED_HEADERS = {
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "content-type",
    "host",
    "content-length",
    "transfer-encoding",
}
# RFC 7230 section 3.2.6: a header name is a token of these characters.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def header_refusal(name: str, value: str) -> str | None:
    """Why a configured header cannot be sent, or None when it can."""
    if not HEADER_NAME.fullmatch(name):
        return f"header name {name!r} is not a valid token (RFC 7230: letters, digits and !#$%&'*+-.^_`|~)"
    if name.lower() in RESERVED_HEADERS:
        return f"header {name!r} is set by OpsConsole and may not be overridden"
    if any(c in value for c in "\r\n\0"):
        return f"the value of header {name!r} may not contain CR, LF or NUL"
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return f"the value of header {name!r} must be Latin-1 text (HTTP headers cannot carry other characters)"
    return None


def generate_secret() -> str:
    """A new `whsec_` secret: 32 random bytes, base64 (the Standard Webhooks format)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_body(message: OutgoingMessage) -> str:
    """The JSON body: the Standard Webhooks envelope {type, timestamp, data}."""
    return json.dumps(
        {
            "type": "notification",
            "timestamp": message.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "data": {
                "id": message.message_id,
                "notification_id": message.outbox_id,
                "channel": message.channel.name,
                "subject": message.subject,
                "body": message.body,
                "payload": message.payload,
            },
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def signed_headers(secret: str | list[str], message_id: str, body: str, now: datetime | None = None) -> dict[str, str]:
    """The Standard Webhooks headers; with several secrets, one space-separated `v1,<sig>` each."""
    now = now or datetime.now(UTC)
    keys = [secret] if isinstance(secret, str) else secret
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(Webhook(key).sign(message_id, now, body) for key in keys),
    }


class WebhookBackend(HttpChannelBackend):
    """JSON POST to an https URL, signed with the channel's whsec_ secret."""

    channel_type = "webhook"
    config_keys = frozenset({"headers"})
    uses_secret = True

    def clean_config(self, config: dict[str, Any]) -> dict[str, Any]:
        config = super().clean_config(config)
        headers = config.get("headers", {})
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise ValueError("headers must be an object of string values.")
        refusals = [reason for name, value in headers.items() if (reason := header_refusal(name, value))]
        if refusals:
            raise ValueError(f"Invalid headers: {'; '.join(refusals)}.")
        return config

    def redact_config(self, config: dict[str, Any]) -> dict[str, Any]:
        # Extra headers usually carry an Authorization or API key: show the names only.
        headers = config.get("headers")
        if not isinstance(headers, dict) or not headers:
            return config
        return {**config, "headers": dict.fromkeys(headers, REDACTED)}

    def unredact_config(self, new: dict[str, Any], current: dict[str, Any], *, moved: bool) -> dict[str, Any]:
        headers, stored = new.get("headers"), current.get("headers") or {}
        if not isinstance(headers, dict) or not isinstance(stored, dict):
            return new
        masked = [name for name, value in headers.items() if value == REDACTED]
        if moved and masked:
            names = ", ".join(f"config.headers.{name}" for name in masked)
            raise ValueError(f"{names}: {REDACTED} stands for the stored value, and {MOVED_REFUSAL}.")
        unknown = [name for name in masked if name not in stored]
        if unknown:
            raise ValueError(
                f"{', '.join(f'config.headers.{name}' for name in unknown)}: {REDACTED} stands for a stored "
                "value, and none is stored under this name; give the real value."
            )
        return {**new, "headers": {name: stored[name] if name in masked else value for name, value in headers.items()}}

    def config_credentials(self, config: dict[str, Any]) -> list[str]:
        headers = config.get("headers")
        return [f"headers.{name}" for name in headers] if isinstance(headers, dict) else []

    def send(self, message: OutgoingMessage, context: DeliveryContext) -> DeliveryReport:
        if not message.channel.secret:
            raise PermanentDeliveryError("webhook channel has no signing secret; rotate it")
        body = webhook_body(message)
        headers = dict(message.channel.config.get("headers", {}))
        now = datetime.now(UTC)
        headers.update(signed_headers(message.channel.signing_secrets(now), message.message_id, body, now))
        return post_json(context, message.channel.target, body.encode(), headers)
