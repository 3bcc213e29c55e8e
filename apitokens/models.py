from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A key for the /system API (`Authorization: Token <key>`), stored only as its SHA-256.

    The key itself is shown once, when it is made; `prefix` (its first characters) is what
    staff see afterwards to tell tokens apart.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", help_text="Whose token it is."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the key, hex.")
    prefix = models.CharField(max_length=12, editable=False, help_text="The key's first characters.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="No longer accepted from then (empty: never).")
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Last request made with it (to the minute)."
    )

    class Meta:
        db_table = "api_tokens"
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
