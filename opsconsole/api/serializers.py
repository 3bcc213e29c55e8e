"""Strict input for every /system app: JSON types as sent, and no key the serializer does not know."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictBooleanField(serializers.BooleanField):
    """Only JSON true/false; DRF's own also takes "yes", "on", 1 …"""

    default_error_messages = {"invalid": "Must be a JSON boolean: true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid")


class StrictIntegerField(serializers.IntegerField):
    """Only JSON integers; DRF's own also takes "30", 30.0 and true."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """Only JSON strings; DRF's own turns 5 into "5"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class NoUnknownFieldsMixin:
    """An unknown key is a 400 naming it, not silently dropped (a typo would lose a setting).

    `read_only_keys` maps keys a client may not send (server-made values) to the reason.
    """

    read_only_keys: dict[str, str] = {}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        errors = {key: [self.read_only_keys[key]] for key in data if key in self.read_only_keys}
        allowed = ", ".join(sorted(self.fields))
        for key in sorted(set(data) - set(self.fields) - set(errors)):
            errors[key] = [f"Unknown field. Allowed: {allowed}."]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(NoUnknownFieldsMixin, serializers.Serializer):
    """A request body serializer that refuses keys it does not know."""
