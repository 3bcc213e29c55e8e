"""Writing retention policies: how long each category is kept."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from maintenance.guards import writes_guarded
from retention.exceptions import InvalidRetentionRequest
from retention.models import DataRetentionPolicy
from retention.registry import registry

DAYS_TO_KEEP_MIN = 1
DAYS_TO_KEEP_MAX = 36500


@writes_guarded
@transaction.atomic
def policy_upsert(
    *,
    category: str,
    days_to_keep: int | None = None,
    enabled: bool | None = None,
    description: str | None = None,
    legal_hold: bool | None = None,
) -> tuple[DataRetentionPolicy, bool]:
    """Create the policy of `category`, or update the fields given; return (policy, created)."""
    registry.get(category)
    if days_to_keep is not None and (
        isinstance(days_to_keep, bool)
        or not isinstance(days_to_keep, int)
        or not DAYS_TO_KEEP_MIN <= days_to_keep <= DAYS_TO_KEEP_MAX
    ):
        raise InvalidRetentionRequest(
            fields={"days_to_keep": [f"Must be an integer from {DAYS_TO_KEEP_MIN} to {DAYS_TO_KEEP_MAX}."]}
        )
    changes = {
        "days_to_keep": days_to_keep,
        "enabled": enabled,
        "description": description,
        "legal_hold": legal_hold,
    }
    while True:
        found = DataRetentionPolicy.objects.select_for_update().filter(category=category).first()
        created = found is None
        if found is None:
            if days_to_keep is None:
                raise InvalidRetentionRequest(fields={"days_to_keep": ["This field is required to create a policy."]})
            policy = DataRetentionPolicy(category=category)
        else:
            policy = found
        for name, value in changes.items():
            if value is not None:
                setattr(policy, name, value)
        policy.full_clean(validate_unique=False)  # the unique index decides, below
        try:
            with transaction.atomic():
                policy.save()
        except IntegrityError:
            if not created:
                raise
            # Another request created this category's policy after our read (nothing to lock
            # then): read it again, locked this time, and update it instead.
            continue
        return policy, created
