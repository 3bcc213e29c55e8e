from datetime import timedelta

import pytest

from maintenance.models import MaintenanceEvent
from maintenance.services import maintenance_set_mode
from retention.models import DataRetentionPolicy, PurgeRun
from retention.tests.conftest import CUTOFF
from retention.tests.factories import MaintenanceEventFactory, OutboxFactory, PolicyFactory, PurgeRunFactory

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)
POLICY = {"category": "exports.jobs", "days_to_keep": 30, "enabled": True, "description": "GDPR", "legal_hold": False}


@pytest.mark.parametrize("path", ["/system/retention/", "/system/retention"])
def test_posting_a_policy_creates_it_then_posting_again_updates_it(api, path):
    created = api.post(path, POLICY, format="json")
    updated = api.post(path, {**POLICY, "days_to_keep": 45}, format="json")

    assert created.status_code == 201
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]
    assert updated.json()["days_to_keep"] == 45
    assert DataRetentionPolicy.objects.get().days_to_keep == 45


def test_posting_the_same_policy_twice_is_idempotent(api):
    api.post("/system/retention/", POLICY, format="json")
    again = api.post("/system/retention/", POLICY, format="json")

    assert again.status_code == 200
    assert {key: again.json()[key] for key in POLICY} == POLICY
    assert DataRetentionPolicy.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "notifications.outbx"}, "category"),
        ({"days_to_keep": 0}, "days_to_keep"),
        ({"days_to_keep": 36501}, "days_to_keep"),
        ({"days_to_keep": "30"}, "days_to_keep"),
        ({"days_to_keep": 30.5}, "days_to_keep"),
        ({"days_to_keep": True}, "days_to_keep"),
        ({"enabled": "yes"}, "enabled"),
        ({"enabled": 1}, "enabled"),
        ({"legal_hold": "true"}, "legal_hold"),
        ({"description": 5}, "description"),
        ({"category": ["exports.jobs"]}, "category"),
        ({"keep_forever": True}, "keep_forever"),
    ],
)
def test_bad_policy_input_is_a_400_naming_the_field_and_writes_nothing(api, change, field):
    response = api.post("/system/retention/", {**POLICY, **change}, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not DataRetentionPolicy.objects.exists()


def test_an_unknown_category_is_a_400_listing_the_known_ones(api):
    response = api.post("/system/retention/", {**POLICY, "category": "nope"}, format="json")
    (message,) = response.json()["errors"]["category"]
    assert "Known categories:" in message
    assert "notifications.outbox" in message and "admin.log" in message


def test_creating_a_policy_without_days_to_keep_is_a_400(api):
    response = api.post("/system/retention/", {"category": "exports.jobs"}, format="json")
    assert response.status_code == 400
    assert "days_to_keep" in response.json()["errors"]


def test_malformed_json_is_a_400(api):
    response = api.post("/system/retention/", "{nope", content_type="application/json")
    assert response.status_code == 400


def test_policies_are_listed_and_filtered(api):
    PolicyFactory(category="exports.jobs", days_to_keep=30)
    PolicyFactory(category="admin.log", days_to_keep=365, legal_hold=True)

    everything = api.get("/system/retention/").json()
    held = api.get("/system/retention?legal_hold=true").json()

    assert [p["category"] for p in everything["results"]] == ["admin.log", "exports.jobs"]
    assert [p["category"] for p in held["results"]] == ["admin.log"]
    assert api.get("/system/retention/?legalhold=true").status_code == 400


@pytest.mark.parametrize("suffix", ["", "/"])
def test_a_policy_is_read_by_its_dotted_category(api, suffix):
    PolicyFactory(category="notifications.outbox", days_to_keep=14)

    response = api.get(f"/system/retention/notifications.outbox{suffix}")

    assert response.status_code == 200
    assert response.json()["days_to_keep"] == 14


def test_a_category_without_policy_or_unknown_is_a_404(api):
    assert api.get("/system/retention/exports.jobs").status_code == 404
    unknown = api.get("/system/retention/nope")
    assert unknown.status_code == 404
    assert "Known" in unknown.json()["detail"]


@pytest.mark.parametrize("suffix", ["", "/"])
def test_categories_list_the_rows_due_now_under_the_policy_or_the_default(api, frozen, suffix):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    MaintenanceEventFactory(at=CUTOFF - SECOND)
    MaintenanceEventFactory(at=CUTOFF)
    OutboxFactory(status="sent", created_at=frozen - timedelta(days=91))
    OutboxFactory(status="pending", created_at=frozen - timedelta(days=91))
    OutboxFactory(status="sent", created_at=frozen - timedelta(days=89))

    body = api.get(f"/system/retention/categories{suffix}").json()

    by_name = {item["name"]: item for item in body["results"]}
    assert body["count"] == 6
    events = by_name["maintenance.events"]
    assert (events["rows_due"], events["days_to_keep"], events["purgeable"]) == (1, 30, True)
    assert events["policy"]["days_to_keep"] == 30
    outbox = by_name["notifications.outbox"]
    assert (outbox["rows_due"], outbox["days_to_keep"], outbox["policy"], outbox["purgeable"]) == (1, 90, None, False)


@pytest.mark.parametrize("body", [{}, {"dry_run": True}])
def test_a_dry_run_purge_answers_at_once_with_counts_and_deletes_nothing(api, frozen, body):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    MaintenanceEventFactory(at=CUTOFF - SECOND)
    MaintenanceEventFactory(at=CUTOFF)

    response = api.post("/system/retention/purge", body, format="json")

    assert response.status_code == 200
    (run,) = response.json()["runs"]
    assert (run["category"], run["matched"], run["deleted"], run["dry_run"]) == ("maintenance.events", 1, 0, True)
    assert response.json()["rows_due"] == 1
    assert MaintenanceEvent.objects.count() == 2
    assert PurgeRun.objects.get().trigger == "api"
    assert PurgeRun.objects.get().actor == api.user


def test_a_real_purge_is_queued_to_a_worker_on_commit_and_returns_the_run_ids(
    api, frozen, django_capture_on_commit_callbacks, monkeypatch
):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    MaintenanceEventFactory(at=CUTOFF - SECOND)
    sent = []
    monkeypatch.setattr("opsconsole.celery.app.send_task", lambda name, args=None, **options: sent.append((name, args)))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post("/system/retention/purge/", {"dry_run": False}, format="json")

    assert response.status_code == 202
    run = PurgeRun.objects.get()
    assert response.json()["run_ids"] == [run.pk]
    assert response.json()["runs"][0]["status"] == "queued"
    assert run.status == "queued"
    assert len(callbacks) == 1
    assert sent == [("retention.tasks.purge_queued_runs", [[run.pk]])]
    assert MaintenanceEvent.objects.count() == 1  # the worker has not run yet


def test_a_purge_in_maintenance_mode_is_a_409_with_a_clear_detail(api, frozen, without_shield):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    MaintenanceEventFactory(at=CUTOFF - SECOND)
    maintenance_set_mode(mode="maintenance", reason="test")

    response = api.post("/system/retention/purge", {"dry_run": False}, format="json")

    assert response.status_code == 409
    assert "maintenance mode is 'maintenance'" in response.json()["detail"]
    assert not PurgeRun.objects.exists()
    assert MaintenanceEvent.objects.filter(at__lt=CUTOFF).count() == 1


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_purge_in_read_only_mode_is_refused_by_the_whole_stack_and_writes_nothing(api, frozen, dry_run):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    MaintenanceEventFactory(at=CUTOFF - SECOND)
    maintenance_set_mode(mode="read_only", reason="test")

    response = api.post("/system/retention/purge", {"dry_run": dry_run}, format="json")

    # 503 when the read-only shield answers first, 409 from the view itself.
    assert response.status_code in (409, 503)
    assert not PurgeRun.objects.exists()
    assert MaintenanceEvent.objects.filter(at__lt=CUTOFF).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dry_run": "no"}, "dry_run"),
        ({"categories": ["nope"]}, "categories"),
        ({"categories": []}, "categories"),
        ({"categories": "maintenance.events"}, "categories"),
        ({"dry_run": False, "force": True}, "force"),
    ],
)
def test_bad_purge_input_is_a_400_and_queues_nothing(api, body, field):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    response = api.post("/system/retention/purge", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not PurgeRun.objects.exists()


def test_purge_runs_are_listed_with_filters(api, frozen):
    PurgeRunFactory(category="admin.log", trigger="schedule", status="completed")
    PurgeRunFactory(category="exports.jobs", trigger="api", status="failed", dry_run=False)
    dry = PurgeRunFactory(category="exports.jobs", trigger="api", status="completed", dry_run=True)
    old = PurgeRunFactory(category="exports.jobs", trigger="command")
    PurgeRun.objects.filter(pk=old.pk).update(started_at=frozen - timedelta(days=3))

    def categories(query):
        response = api.get(f"/system/retention/runs{query}")
        assert response.status_code == 200, response.json()
        return sorted((r["category"], r["trigger"], r["status"]) for r in response.json()["results"])

    assert len(categories("")) == 4
    assert categories("?trigger=schedule") == [("admin.log", "schedule", "completed")]
    assert categories("?status=failed") == [("exports.jobs", "api", "failed")]
    assert [r["id"] for r in api.get("/system/retention/runs/?dry_run=true").json()["results"]] == [dry.pk]
    assert categories(f"?started_before={(frozen - timedelta(days=1)).isoformat().replace('+00:00', 'Z')}") == [
        ("exports.jobs", "command", "completed")
    ]
    assert api.get("/system/retention/runs?status=bogus").status_code == 400
    assert api.get("/system/retention/runs?colour=red").status_code == 400
    assert api.get(f"/system/retention/runs/{dry.pk}").json()["dry_run"] is True


def test_retention_api_refuses_anonymous_and_non_staff(anon_api, nonstaff_api):
    assert anon_api.get("/system/retention/").status_code == 401
    assert nonstaff_api.get("/system/retention/categories").status_code == 403
    assert nonstaff_api.post("/system/retention/purge", {}, format="json").status_code == 403


def test_categories_refuse_unknown_query_parameters(api):
    assert api.get("/system/retention/categories?due=1").status_code == 400


def test_updating_a_policy_needs_the_change_permission_not_only_add(django_user_model, api):
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    from apitokens.services import token_create

    PolicyFactory(category="exports.jobs", days_to_keep=30)
    clerk = django_user_model.objects.create_user("clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="add_dataretentionpolicy"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=clerk)[1]}")

    assert client.post("/system/retention/", {**POLICY, "days_to_keep": 1}, format="json").status_code == 403
    assert client.post("/system/retention/", {**POLICY, "category": "admin.log"}, format="json").status_code == 201
    assert DataRetentionPolicy.objects.get(category="exports.jobs").days_to_keep == 30


def test_a_purge_with_nothing_to_do_says_why_and_queues_nothing(api, django_capture_on_commit_callbacks):
    PolicyFactory(category="exports.jobs", days_to_keep=30, legal_hold=True)

    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(
            "/system/retention/purge", {"dry_run": False, "categories": ["exports.jobs", "admin.log"]}, format="json"
        )

    assert response.status_code == 200
    body = response.json()
    assert (body["queued"], body["run_ids"]) == (False, [])
    assert body["skipped"] == [
        {"category": "exports.jobs", "reason": "legal hold"},
        {"category": "admin.log", "reason": "no retention policy"},
    ]
    assert callbacks == []


def test_with_the_shield_a_purge_in_maintenance_mode_is_a_503_and_deletes_nothing(api, frozen):
    PolicyFactory(category="maintenance.events", days_to_keep=30)
    MaintenanceEventFactory(at=CUTOFF - SECOND)
    maintenance_set_mode(mode="maintenance", reason="test")

    response = api.post("/system/retention/purge", {"dry_run": False}, format="json")

    assert response.status_code == 503
    assert response.json()["mode"] == "maintenance"
    assert response["Retry-After"]
    assert not PurgeRun.objects.exists()
    assert MaintenanceEvent.objects.filter(at__lt=CUTOFF).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_real_purge_with_the_broker_down_is_a_503_and_leaves_no_run_queued(api, monkeypatch):
    from kombu.exceptions import OperationalError

    def broker_down(name, args=None, **options):
        raise OperationalError("Connection refused")

    PolicyFactory(category="maintenance.events", days_to_keep=30)
    MaintenanceEventFactory(at=CUTOFF - timedelta(days=400))
    monkeypatch.setattr("opsconsole.celery.app.send_task", broker_down)

    response = api.post("/system/retention/purge", {"dry_run": False}, format="json")

    assert response.status_code == 503
    assert "broker is unreachable" in response.json()["detail"]
    assert list(PurgeRun.objects.values_list("status", flat=True)) == ["failed"]
    assert MaintenanceEvent.objects.count() == 1


def test_an_explicit_null_description_clears_it_and_an_omitted_one_keeps_it(api):
    api.post("/system/retention/", POLICY, format="json")
    kept = api.post("/system/retention/", {"category": "exports.jobs", "days_to_keep": 40}, format="json")
    cleared = api.post("/system/retention/", {"category": "exports.jobs", "description": None}, format="json")

    assert kept.json()["description"] == "GDPR"
    assert cleared.status_code == 200
    assert DataRetentionPolicy.objects.get().description == ""


def test_an_unknown_query_parameter_on_a_policy_is_a_400(api):
    PolicyFactory(category="exports.jobs", days_to_keep=30)
    response = api.get("/system/retention/exports.jobs?x=1")
    assert response.status_code == 400
    assert "x" in response.json()["errors"]
