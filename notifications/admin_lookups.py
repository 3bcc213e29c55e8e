"""What the notification admins never filter or search on: the write-only fields and credential-bearing targets."""

from __future__ import annotations

from notifications.channels import BACKENDS
from notifications.channels.base import ChannelBackend

#: Channel fields no admin page shows or filters on: a `?secret__startswith=` lookup in a
#: changelist URL would answer, row count by row count, what the secret is.
WRITE_ONLY_FIELDS = frozenset({"secret", "previous_secret"})


class WriteOnlyLookupsRefused:
    """Refuse changelist lookups that reach a write-only field, here or through a relation (channel__secret)."""

    def lookup_allowed(self, lookup, value, request=None):
        if WRITE_ONLY_FIELDS.intersection(lookup.split("__")):
            return False
        return super().lookup_allowed(lookup, value, request)


# Channel types whose target the admin shows as stored (their backend redacts nothing): only
# these are searched by target.
CLEAR_TARGET_TYPES = [
    name for name, backend in BACKENDS.items() if type(backend).redact_target is ChannelBackend.redact_target
]
