import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from maintenance.models import MaintenanceEvent
from opsconsole.testing import require_postgres
from retention.exceptions import PurgeLocked
from retention.locks import ADVISORY_LOCK_KEY, purge_lock
from retention.models import PurgeRun
from retention.registry import registry
from retention.services import purge_now
from retention.tests.factories import MaintenanceEventFactory, PolicyFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_purges_started_together_on_postgres_do_not_both_run(monkeypatch):
    require_postgres()
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    for _ in range(4):
        MaintenanceEventFactory(at=timezone.now() - timedelta(days=60))
    category = registry.get("maintenance.events")
    in_first_batch = threading.Event()
    release_first = threading.Event()

    def hold_in_first_batch(batch, *, using):
        in_first_batch.set()
        assert release_first.wait(20), "the test never released the first purge"

    monkeypatch.setattr(category, "before_delete_batch", hold_in_first_batch)
    outcome = {}

    def first_purge():
        try:
            outcome["first"] = purge_now(categories=["maintenance.events"], trigger="command")
        finally:
            connections.close_all()

    first = threading.Thread(target=first_purge)
    first.start()
    try:
        assert in_first_batch.wait(20), "the first purge never reached a batch"
        with pytest.raises(PurgeLocked, match="another purge is running"):
            purge_now(categories=["maintenance.events"], trigger="api")
    finally:
        release_first.set()
        first.join(30)

    assert outcome["first"].runs[0].deleted == 4
    assert sorted(PurgeRun.objects.values_list("trigger", "status")) == [("api", "refused"), ("command", "completed")]
    assert MaintenanceEvent.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_advisory_lock_is_free_again_after_a_purge():
    require_postgres()
    with purge_lock():
        pass
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        assert cursor.fetchone()[0] is True
        cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_session_holding_the_advisory_lock_refuses_a_purge():
    require_postgres()
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    MaintenanceEventFactory(at=timezone.now() - timedelta(days=60))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
    try:
        with pytest.raises(PurgeLocked, match="pid"):
            purge_now(categories=["maintenance.events"], trigger="command")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
    assert MaintenanceEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_purge_started_while_another_is_between_batches_is_refused():
    """Whatever the database: the advisory lock on PostgreSQL, the lock row elsewhere."""
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    for _ in range(4):
        MaintenanceEventFactory(at=timezone.now() - timedelta(days=60))
    between_batches = threading.Event()
    go_on = threading.Event()
    outcome = {}

    def pause_after_the_first_batch(run):
        if run.deleted == 2 and not between_batches.is_set():
            between_batches.set()
            assert go_on.wait(20), "the test never let the first purge go on"

    def first_purge():
        try:
            outcome["first"] = purge_now(
                categories=["maintenance.events"],
                trigger="schedule",
                batch_size=2,
                progress=pause_after_the_first_batch,
            )
        finally:
            connections.close_all()

    first = threading.Thread(target=first_purge)
    first.start()
    try:
        assert between_batches.wait(20), "the first purge never finished a batch"
        with pytest.raises(PurgeLocked):
            purge_now(categories=["maintenance.events"], trigger="command")
    finally:
        go_on.set()
        first.join(30)

    assert outcome["first"].runs[0].deleted == 4
    runs = sorted(PurgeRun.objects.values_list("trigger", "status"))
    assert runs == [("command", "refused"), ("schedule", "completed")]
    # The lock is free again afterwards.
    assert purge_now(categories=["maintenance.events"], trigger="command").runs[0].status == "completed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_first_posts_of_one_policy_on_postgres_end_as_one_create_and_one_update():
    """The second insert waits on the first's unique key, then updates the row it finds."""
    require_postgres()
    from django.db import transaction

    from retention.models import DataRetentionPolicy
    from retention.services import policy_upsert

    first_inserted = threading.Event()
    outcome = {}

    def first():
        try:
            with transaction.atomic():
                outcome["first"] = policy_upsert(category="exports.jobs", days_to_keep=30)[1]
                first_inserted.set()
                time.sleep(0.5)  # the second request reads nothing and blocks on our key meanwhile
        finally:
            connections.close_all()

    def second():
        try:
            first_inserted.wait(5)
            outcome["second"] = policy_upsert(category="exports.jobs", days_to_keep=45)[1]
        except Exception as exc:  # noqa: BLE001 - the assertion below names it
            outcome["second"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert outcome == {"first": True, "second": False}
    assert list(DataRetentionPolicy.objects.values_list("days_to_keep", flat=True)) == [45]
