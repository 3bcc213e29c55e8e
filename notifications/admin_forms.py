"""The admin's channel form: the service's validation, and credentials shown masked as the API does."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from notifications import services
from notifications.admin_config_widget import ChannelConfigField
from notifications.channels import BACKENDS
from notifications.channels.base import REDACTED
from notifications.exceptions import ChannelInvalid
from notifications.models import NotificationChannel


class ChannelAdminForm(forms.ModelForm):
    config = ChannelConfigField(
        label="Options", help_text="The options of the channel type picked above (the API's config object)."
    )

    class Meta:
        model = NotificationChannel
        fields = list(services.CHANNEL_EDITABLE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        backend = BACKENDS.get(self.instance.channel_type) if self.instance.pk else None
        if backend is None:
            return
        # As in the API: credentials are not shown again; left as ******** they stay as stored.
        self.initial["target"] = backend.redact_target(self.instance.target)
        self.initial["config"] = backend.redact_config(self.instance.config or {})
        for name in ("target", "config"):
            if name in self.fields and self.initial[name] != getattr(self.instance, name):
                self.fields[name].help_text = (
                    f"{self.fields[name].help_text} Credentials are shown as {REDACTED}; "
                    "leave them so to keep the stored value."
                ).strip()

    def clean(self):
        cleaned = super().clean()
        values = {key: cleaned[key] for key in ("name", "channel_type", "target", "config") if key in cleaned}
        for key in ("max_attempts", "rate_limit_per_minute"):
            if key in cleaned:
                values[key] = cleaned[key]
        try:
            if self.instance.pk:
                values = {key: value for key, value in values.items() if key in self.changed_data}
                # The form shows credentials masked, as the API does: the same rule restores them.
                values = services.channel_restore_credentials(channel=self.instance, changes=values)
            cleaned.update(services.channel_clean(channel=self.instance if self.instance.pk else None, **values))
        except ChannelInvalid as exc:
            raise ValidationError(
                {field: errors for field, errors in exc.fields.items() if field in self.fields} or exc.detail
            ) from exc
        return cleaned
