"""The channel form's options: one group of fields per channel type instead of a raw JSON box.

The groups come from each backend's `config_keys` (notifications/channels/), so a new type or
option shows up here without a change: `headers` is a list of name/value rows, `level` a menu,
any other key a text field. What is posted is assembled into the same config dict the API
takes, from the group of the channel type posted only, and validated by the same service
(`channel_clean`): the form decides nothing about what a config may hold.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms

from notifications.channels import BACKENDS
from notifications.models import ChannelType

LABELS = {
    "from_email": ("From address", "Empty: the server's DEFAULT_FROM_EMAIL."),
    "reply_to": ("Reply-To address", "Optional."),
    "username": ("Bot name", "Optional: the name the message is posted under."),
    "icon_emoji": ("Icon emoji", "Optional, e.g. :rotating_light:"),
    "level": ("Log level", "Empty: INFO."),
    "headers": ("Extra headers", "Sent with every delivery, e.g. Authorization. Empty rows are ignored."),
}
CHOICES = {"level": ["DEBUG", "INFO", "WARNING", "ERROR"]}
BLANK_HEADER_ROWS = 2


def _kind(key: str) -> str:
    if key == "headers":
        return "headers"
    return "choice" if key in CHOICES else "text"


class ChannelConfigWidget(forms.Widget):
    template_name = "notifications/widgets/channel_config.html"

    def format_value(self, value: Any) -> dict[str, Any]:
        if isinstance(value, str):
            try:
                value = json.loads(value or "{}")
            except json.JSONDecodeError:
                value = {}
        return value if isinstance(value, dict) else {}

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        config = context["widget"]["value"]
        groups = []
        for channel_type, backend in BACKENDS.items():
            fields = []
            for key in sorted(backend.config_keys):
                label, help_text = LABELS.get(key, (key.replace("_", " ").capitalize(), ""))
                field = {
                    "key": key,
                    "label": label,
                    "help": help_text,
                    "kind": _kind(key),
                    "value": config.get(key, ""),
                }
                if key == "headers":
                    headers = config.get("headers") if isinstance(config.get("headers"), dict) else {}
                    field["rows"] = [*headers.items(), *[("", "")] * BLANK_HEADER_ROWS]
                field["choices"] = CHOICES.get(key, [])
                fields.append(field)
            groups.append({"type": channel_type, "label": ChannelType(channel_type).label, "fields": fields})
        context["groups"] = groups
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> dict[str, Any]:
        channel_type = data.get("channel_type", "")
        backend = BACKENDS.get(channel_type)
        if backend is None:
            return {}
        prefix = f"{name}__{channel_type}__"
        config: dict[str, Any] = {}
        for key in backend.config_keys:
            if key == "headers":
                names = _getlist(data, f"{prefix}headers__name")
                values = _getlist(data, f"{prefix}headers__value")
                headers = {
                    header.strip(): value for header, value in zip(names, values, strict=False) if header.strip()
                }
                if headers:
                    config["headers"] = headers
            elif value := (data.get(f"{prefix}{key}") or "").strip():
                config[key] = value
        return config

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False  # an empty group is an empty config, not a missing field


def _getlist(data: Any, key: str) -> list[str]:
    if hasattr(data, "getlist"):
        return list(data.getlist(key))
    value = data.get(key)
    return value if isinstance(value, list) else ([value] if value is not None else [])


class ChannelConfigField(forms.Field):
    """The channel's config as a dict, entered through ChannelConfigWidget."""

    widget = ChannelConfigWidget

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dict[str, Any]:
        return value if isinstance(value, dict) else {}

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.widget.format_value(initial) != self.to_python(data)
