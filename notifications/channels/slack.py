"""Slack incoming webhooks."""

from __future__ import annotations

import json
from typing import Any

from notifications.channels.base import DeliveryContext, DeliveryReport, OutgoingMessage, post_json
from notifications.channels.http import HttpChannelBackend


class SlackBackend(HttpChannelBackend):
    """POST `{"text": ...}` to a Slack incoming-webhook URL."""

    channel_type = "slack"
    config_keys = frozenset({"username", "icon_emoji"})
    # https://hooks.slack.com/services/T…/B…/<token>: the last segment is the credential.
    secret_last_segment = True

    def clean_config(self, config: dict[str, Any]) -> dict[str, Any]:
        config = super().clean_config(config)
        if not all(isinstance(value, str) for value in config.values()):
            raise ValueError("username and icon_emoji must be strings.")
        return config

    def send(self, message: OutgoingMessage, context: DeliveryContext) -> DeliveryReport:
        text = f"*{message.subject}*\n{message.body}" if message.subject else message.body
        if message.payload:
            text += "\n```" + json.dumps(message.payload, indent=2, ensure_ascii=False) + "```"
        body: dict[str, Any] = {"text": text, **message.channel.config}
        return post_json(
            context,
            message.channel.target,
            json.dumps(body, ensure_ascii=False).encode(),
            {"X-OpsConsole-Message-Id": message.message_id},
        )
