"""The rules that live in one place: purge eligibility, status groups, the write guard."""

import pytest

from maintenance.exceptions import WritesBlocked
from retention import selectors, services
from retention.models import DataRetentionPolicy, PurgeRun, PurgeStatus
from retention.tests.factories import PolicyFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("category", "policy", "reason"),
    [
        ("maintenance.events", {"enabled": True, "legal_hold": False}, ""),
        ("maintenance.events", None, "no retention policy"),
        ("maintenance.events", {"enabled": False, "legal_hold": False}, "policy disabled"),
        ("maintenance.events", {"enabled": True, "legal_hold": True}, "legal hold"),
        ("maintenance.events", {"enabled": False, "legal_hold": True}, "policy disabled"),
        ("gone.category", {"enabled": True, "legal_hold": False}, "category no longer registered"),
    ],
)
def test_purge_skip_reason_is_the_one_eligibility_rule(category, policy, reason):
    policy_row = DataRetentionPolicy(category=category, days_to_keep=30, **policy) if policy else None

    assert selectors.purge_skip_reason(category=category, policy=policy_row) == reason


@pytest.mark.parametrize(
    ("fields", "purgeable"),
    [({"enabled": True, "legal_hold": False}, True), ({"enabled": True, "legal_hold": True}, False)],
)
def test_the_category_list_and_the_purge_agree_on_what_is_purged(fields, purgeable):
    PolicyFactory(category="maintenance.events", days_to_keep=30, **fields)

    status = next(s for s in selectors.category_status_list() if s.category.name == "maintenance.events")
    result = services.purge_enqueue(categories=["maintenance.events"], trigger="api")

    assert status.purgeable is purgeable
    assert bool(result.runs) is purgeable
    assert [s.reason for s in result.skipped] == ([] if purgeable else [status.skip_reason])


def test_a_category_without_a_policy_is_not_purgeable_in_the_list():
    status = next(s for s in selectors.category_status_list() if s.category.name == "notifications.outbox")
    assert (status.purgeable, status.skip_reason) == (False, "no retention policy")


def test_purge_status_groups():
    assert set(PurgeStatus.open()) == {"queued", "running"}
    assert set(PurgeStatus.succeeded()) == {"completed", "partial"}
    assert not set(PurgeStatus.open()) & set(PurgeStatus.succeeded())


def test_a_policy_cannot_be_written_outside_normal_mode(read_only):
    with pytest.raises(WritesBlocked):
        services.policy_upsert(category="maintenance.events", days_to_keep=30)
    assert not DataRetentionPolicy.objects.exists()


def test_the_interrupted_run_sweep_waits_outside_normal_mode(read_only):
    run = PurgeRun.objects.create(category="maintenance.events", trigger="api", status=PurgeStatus.RUNNING)

    assert services.purge_runs_fail_interrupted() == 0

    run.refresh_from_db()
    assert run.status == "running"
