"""Writes notifications to the log: for development and demos."""

from __future__ import annotations

import logging
from typing import Any

from notifications.channels.base import ChannelBackend, DeliveryContext, DeliveryReport, OutgoingMessage

logger = logging.getLogger("notifications.log_channel")


class LogBackend(ChannelBackend):
    channel_type = "log"
    config_keys = frozenset({"level"})

    def clean_config(self, config: dict[str, Any]) -> dict[str, Any]:
        config = super().clean_config(config)
        level = config.get("level", "INFO")
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("level must be DEBUG, INFO, WARNING or ERROR.")
        return config

    def send(self, message: OutgoingMessage, context: DeliveryContext) -> DeliveryReport:
        level = logging.getLevelName(message.channel.config.get("level", "INFO"))
        logger.log(
            level,
            "[%s] %s: %s %s",
            message.channel.target,
            message.message_id,
            message.subject or "",
            message.body,
        )
        return DeliveryReport()
