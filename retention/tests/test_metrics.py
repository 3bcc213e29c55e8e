"""The retention family of /metrics: rows each purge batch deleted, per category; dry runs count nothing."""

from datetime import timedelta

import pytest

from opsconsole.metrics.testing import sample, scrape
from retention.services import purge_now, purge_preview
from retention.tests.conftest import CUTOFF
from retention.tests.factories import MaintenanceEventFactory, PolicyFactory

pytestmark = pytest.mark.django_db


def deleted(client, category):
    return sample(scrape(client), "opsconsole_purge_rows_deleted_total", category=category)


def test_a_purge_adds_the_rows_it_deleted_to_its_category_batch_by_batch(anon_api, frozen, settings):
    settings.RETENTION = {**settings.RETENTION, "BATCH_SIZE": 2}
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    MaintenanceEventFactory.create_batch(5, at=CUTOFF - timedelta(days=1))
    MaintenanceEventFactory(at=CUTOFF + timedelta(days=1))

    purge_preview(categories=["maintenance.events"])
    assert deleted(anon_api, "maintenance.events") == 0  # a dry run deletes nothing

    result = purge_now(categories=["maintenance.events"], trigger="command")
    assert [run.deleted for run in result.runs] == [5]
    assert deleted(anon_api, "maintenance.events") == 5
    purge_now(categories=["maintenance.events"], trigger="command")  # nothing left to delete
    assert deleted(anon_api, "maintenance.events") == 5
    assert deleted(anon_api, "notifications.outbox") == 0
