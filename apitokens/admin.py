"""API tokens in the admin: prefixes, never keys; your own tokens unless you are a superuser.

Adding a token shows its key once, in a message; there is no change form (a token has
nothing to edit, and its key is not stored), only view and revoke (delete).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html

from apitokens.models import ApiToken
from apitokens.selectors import tokens_visible_to
from apitokens.services import default_expiry, token_create, token_revoke
from opsconsole.admin_lookups import SafeModelAdmin


class TokenAddForm(forms.ModelForm):
    """Whose token, and optionally an earlier expiry than OPSCONSOLE_API_TOKEN_TTL_DAYS gives."""

    class Meta:
        model = ApiToken
        fields = ["user", "expires_at"]

    #: set by ApiTokenAdmin.get_form: who is adding
    actor: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = get_user_model()._default_manager.filter(is_active=True)
        if not self.actor.is_superuser:
            users = users.filter(pk=self.actor.pk)
            self.fields["user"].initial = self.actor.pk
        self.fields["user"].queryset = users
        limit = default_expiry()
        self.fields["expires_at"].help_text = (
            f"Empty: {limit:%Y-%m-%d %H:%M} (the longest allowed)." if limit else "Empty: never expires."
        )

    def clean_user(self) -> Any:
        user = self.cleaned_data["user"]
        if not self.actor.is_superuser and user.pk != self.actor.pk:
            raise ValidationError("You may make tokens for yourself only.")
        return user

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is None:
            return None
        if expires_at <= timezone.now():
            raise ValidationError("Must be in the future.")
        limit = default_expiry()
        if limit is not None and expires_at > limit:
            raise ValidationError(f"At most {limit:%Y-%m-%d %H:%M} (OPSCONSOLE_API_TOKEN_TTL_DAYS).")
        return expires_at


@admin.register(ApiToken)
class ApiTokenAdmin(SafeModelAdmin):
    list_display = ["user", "key_prefix", "created_at", "last_used_at", "expires_at", "state"]
    list_select_related = ["user"]
    search_fields = ["user__username", "prefix"]
    secret_fields = ("key_hash",)
    fields = ["user", "key_prefix", "created_at", "last_used_at", "expires_at", "state"]
    readonly_fields = fields
    date_hierarchy = "created_at"

    def get_queryset(self, request: Any) -> Any:
        return tokens_visible_to(request.user)

    @admin.display(description="key", ordering="prefix")
    def key_prefix(self, token: ApiToken) -> str:
        return f"{token.prefix}…"

    @admin.display(description="state")
    def state(self, token: ApiToken) -> str:
        if token.expires_at is not None and token.expires_at <= timezone.now():
            return "expired"
        return "active"

    # --- add: the key, once --------------------------------------------------------
    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = TokenAddForm
            kwargs["fields"] = TokenAddForm.Meta.fields
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # a class made for this request by modelform_factory
        return form

    def get_fields(self, request: Any, obj: Any = None) -> Any:
        return TokenAddForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        return [] if obj is None else self.readonly_fields

    def save_model(self, request: Any, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return
        expires_at = form.cleaned_data.get("expires_at")
        extra = {"expires_at": expires_at} if expires_at is not None else {}
        token, key = token_create(user=form.cleaned_data["user"], **extra)
        obj.pk = token.pk
        obj.refresh_from_db()
        self.message_user(
            request,
            format_html("API token for {}: <code>{}</code> — copy it now, it is not shown again.", token.user, key),
            messages.WARNING,
        )

    # --- nothing to change; revoke your own ------------------------------------------
    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        if obj is not None and not request.user.is_superuser and obj.user_id != request.user.pk:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: Any, obj: ApiToken) -> None:
        token_revoke(token=obj)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        for token in queryset:
            token_revoke(token=token)
