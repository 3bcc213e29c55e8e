from datetime import datetime

import pytest
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from exports import services
from exports.admin_actions import changelist_filters_to_params
from exports.models import ExportJob, JobStatus
from exports.tests.factories import ExportJobFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/exports/exportjob/"


@pytest.fixture
def enqueued(monkeypatch):
    sent = []
    monkeypatch.setattr(services.enqueue, "export_job_enqueue", sent.append)
    return sent


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_job_list_shows_status_progress_size_and_a_download_link(admin_client):
    done = ExportJobFactory(status=JobStatus.COMPLETED, file="exports/1/x.csv", file_size=2048, rows_written=4)
    ExportJobFactory(status=JobStatus.RUNNING, rows_written=30, total_rows=120, requested_by="b")
    html = admin_client.get(CHANGELIST).content.decode()
    assert '<progress value="25" max="100"' in html
    assert "2.0\xa0KB" in html
    assert f'href="/system/exports/{done.pk}/download"' in html


def test_the_add_form_starts_an_export_through_the_service(admin_client, enqueued):
    response = admin_client.post(
        f"{CHANGELIST}add/",
        {
            "job_type": "notifications.outbox",
            "format": "parquet",
            "filter_params__notifications.outbox__status": ["sent"],
            "filter_params__maintenance.events__to_mode": "read_only",  # another dataset's: not read
            "note": "for ana",
            "requested_by": "ana",  # not a field of the form: who asked is the signed-in user
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ExportJob.objects.get()
    assert (job.job_type, job.format, job.filter_params) == ("notifications.outbox", "parquet", {"status": "sent"})
    assert job.requested_by == "admin" and job.requested_by_user.username == "admin"
    assert job.note == "for ana"
    assert enqueued == [job.pk]


def test_the_add_form_starts_a_snapshot(admin_client, enqueued):
    response = admin_client.post(
        f"{CHANGELIST}add/",
        {"job_type": "snapshot", "format": "csv", "datasets": ["admin.log", "maintenance.events"]},
    )
    assert response.status_code == 302
    assert ExportJob.objects.get().datasets == ["admin.log", "maintenance.events"]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("channel", "seven", "Enter a whole number"),
        ("created_after", "last tuesday", "Enter a valid date/time"),
        ("status", "lost", "Select a valid choice"),
    ],
)
def test_the_add_form_refuses_bad_filters_and_writes_nothing(admin_client, enqueued, key, value, message):
    response = admin_client.post(
        f"{CHANGELIST}add/",
        {"job_type": "notifications.outbox", "format": "csv", f"filter_params__notifications.outbox__{key}": value},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ExportJob.objects.count() == 0 and enqueued == []


def test_the_add_form_refuses_a_dataset_the_user_may_not_view(client, django_user_model, enqueued):
    from django.contrib.auth.models import Permission

    clerk = django_user_model.objects.create_user("clerk", password="pw-clerk-123", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["add_exportjob", "view_exportjob"]))
    client.force_login(clerk)
    response = client.post(f"{CHANGELIST}add/", {"job_type": "notifications.outbox", "format": "csv"})
    assert response.status_code == 200
    assert "notifications.view_notificationoutbox" in response.content.decode()
    assert ExportJob.objects.count() == 0 and enqueued == []


def test_a_snapshot_without_datasets_is_refused_in_the_form(admin_client, enqueued):
    response = admin_client.post(f"{CHANGELIST}add/", {"job_type": "snapshot", "format": "csv"})
    assert response.status_code == 200
    assert "A non-empty list of dataset names" in response.content.decode()
    assert ExportJob.objects.count() == 0


def test_a_job_is_read_only_in_the_admin(admin_client):
    job = ExportJobFactory(status=JobStatus.FAILED, error_message="boom")
    admin_client.post(f"{CHANGELIST}{job.pk}/change/", {"job_type": "admin.log", "status": "completed"})
    job.refresh_from_db()
    assert (job.job_type, job.status) == ("notifications.outbox", JobStatus.FAILED)


def test_the_cancel_action_cancels_active_jobs_and_names_the_rest(admin_client):
    pending = ExportJobFactory()
    done = ExportJobFactory(status=JobStatus.COMPLETED, requested_by="x")
    response = admin_client.post(
        CHANGELIST, {"action": "cancel_jobs", "_selected_action": [pending.pk, done.pk]}, follow=True
    )
    pending.refresh_from_db()
    done.refresh_from_db()
    assert pending.status == JobStatus.CANCELLED and done.status == JobStatus.COMPLETED
    assert any(f"#{done.pk} (completed)" in m for m in messages_of(response))


def test_the_export_action_turns_the_changelist_filters_into_a_job(admin_client, enqueued):
    shown = ExportJobFactory(status=JobStatus.FAILED)
    response = admin_client.post(
        f"{CHANGELIST}?status__exact=failed&format__exact=csv&o=-1",
        {"action": "export_exports_jobs_rows", "_selected_action": [shown.pk]},
        follow=True,
    )
    job = ExportJob.objects.exclude(pk=shown.pk).get()
    assert job.job_type == "exports.jobs"
    assert job.filter_params == {"format": "csv", "status": "failed"}  # filters, not the selected ids
    assert any("Started" in m for m in messages_of(response))
    assert enqueued == [job.pk]


def test_the_export_action_refuses_a_search_it_cannot_express(admin_client, enqueued):
    shown = ExportJobFactory()
    response = admin_client.post(
        f"{CHANGELIST}?q=outbox", {"action": "export_exports_jobs_rows", "_selected_action": [shown.pk]}, follow=True
    )
    assert ExportJob.objects.count() == 1
    assert any("search cannot be exported" in m for m in messages_of(response))


def test_changelist_date_filters_become_range_filters(settings):
    params = changelist_filters_to_params(
        {"created_at__year": "2026", "created_at__month": "2", "status__exact": "failed"},
        dataset_name="exports.jobs",
        date_fields={"created_at": "created"},
    )
    assert params["status"] == "failed"
    assert datetime.fromisoformat(params["created_after"]) == datetime.fromisoformat("2026-02-01T00:00:00+00:00")
    # The dataset's `before` is inclusive, the admin's end exclusive: one microsecond less.
    assert datetime.fromisoformat(params["created_before"]) == datetime.fromisoformat(
        "2026-02-28T23:59:59.999999+00:00"
    )
    ranged = changelist_filters_to_params(
        {"created_at__gte": "2026-05-01", "created_at__lt": "2026-05-08"},
        dataset_name="exports.jobs",
        date_fields={"created_at": "created"},
    )
    assert ranged == {
        "created_after": "2026-05-01T00:00:00+00:00",
        "created_before": "2026-05-07T23:59:59.999999+00:00",
    }


@pytest.mark.django_db
def test_a_row_stamped_exactly_at_the_admins_exclusive_end_is_not_exported():
    from exports.registry import get_dataset

    inside, boundary = ExportJobFactory(), ExportJobFactory()
    ExportJob.objects.filter(pk=inside.pk).update(created_at=datetime.fromisoformat("2026-02-28T23:59:59+00:00"))
    ExportJob.objects.filter(pk=boundary.pk).update(created_at=datetime.fromisoformat("2026-03-01T00:00:00+00:00"))
    dataset = get_dataset("exports.jobs")
    for query in (
        {"created_at__year": "2026", "created_at__month": "2"},
        {"created_at__gte": "2026-02-01", "created_at__lt": "2026-03-01"},
    ):
        params = dataset.validate_filters(
            changelist_filters_to_params(query, dataset_name="exports.jobs", date_fields={"created_at": "created"})
        )
        assert list(dataset.filtered_queryset(params).values_list("pk", flat=True)) == [inside.pk], query


def test_an_unmapped_changelist_filter_is_refused():
    with pytest.raises(ValueError, match="requested_by_user__id__exact"):
        changelist_filters_to_params({"requested_by_user__id__exact": "3"}, dataset_name="exports.jobs")


def test_deleting_a_job_in_the_admin_deletes_its_file(admin_client, django_capture_on_commit_callbacks):
    job = ExportJobFactory(status=JobStatus.COMPLETED)
    name = default_storage.save(f"exports/{job.pk}/f.csv", ContentFile(b"x"))
    ExportJob.objects.filter(pk=job.pk).update(file=name)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"{CHANGELIST}{job.pk}/delete/", {"post": "yes"})
    assert not ExportJob.objects.filter(pk=job.pk).exists()
    assert not default_storage.exists(name)


@pytest.mark.parametrize(
    ("dataset", "query", "expected"),
    [
        (
            "notifications.outbox",
            {"status__exact": "failed", "channel__id__exact": "4", "sent_at__gte": "2026-03-01", "o": "2"},
            {"status": "failed", "channel": "4", "sent_after": "2026-03-01T00:00:00+00:00"},
        ),
        (
            "notifications.channels",
            {"channel_type__exact": "webhook", "active__exact": "1"},
            {"channel_type": "webhook", "active": "1"},  # stored as "true" once validated
        ),
    ],
)
def test_the_notification_changelist_mappings_give_valid_dataset_filters(dataset, query, expected):
    from exports.registry import get_dataset
    from notifications import datasets as mappings

    prefix = "OUTBOX" if dataset.endswith("outbox") else "CHANNEL"
    params = changelist_filters_to_params(
        query,
        dataset_name=dataset,
        lookups=getattr(mappings, f"{prefix}_ADMIN_LOOKUPS"),
        date_fields=getattr(mappings, f"{prefix}_ADMIN_DATE_FIELDS"),
    )
    assert params == expected
    get_dataset(dataset).validate_filters(params)  # raises if the FilterSet refuses them
    if "active" in params:
        assert get_dataset(dataset).validate_filters(params)["active"] == "true"


def test_the_add_and_change_pages_render(admin_client):
    add = admin_client.get(f"{CHANGELIST}add/")
    assert add.status_code == 200
    html = add.content.decode()
    assert 'name="filter_params__notifications.outbox__status"' in html
    assert 'value="snapshot"' in html and 'value="parquet"' in html
    assert "Note (free text)" in html and 'name="requested_by"' not in html
    job = ExportJobFactory(status=JobStatus.RUNNING, rows_written=5, total_rows=10)
    change = admin_client.get(f"{CHANGELIST}{job.pk}/change/")
    assert change.status_code == 200
    assert '<progress value="50"' in change.content.decode()


def test_the_changelist_filters_and_date_hierarchy_work(admin_client):
    ExportJobFactory(status=JobStatus.FAILED)
    year = ExportJobFactory(requested_by="y").created_at.year
    assert admin_client.get(f"{CHANGELIST}?status__exact=failed&format__exact=csv").status_code == 200
    assert admin_client.get(f"{CHANGELIST}?created_at__year={year}&q=outbox").status_code == 200


def test_the_export_action_works_on_any_model_admin_and_checks_the_add_permission(rf, django_user_model, enqueued):
    from django.contrib import admin as django_admin
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Permission
    from django.contrib.messages.storage.fallback import FallbackStorage

    from exports.admin_actions import export_rows_action

    class LogEntryAdmin(django_admin.ModelAdmin):
        actions = [export_rows_action("admin.log", format="jsonl", lookups={"user__id__exact": "user"})]

    model_admin = LogEntryAdmin(LogEntry, django_admin.site)
    user = django_user_model.objects.create_user("clerk", is_staff=True)
    listing = rf.get("/")
    listing.user = user
    action = model_admin.get_actions(listing)  # listed without any custom permission method
    assert "export_admin_log_jsonl" in action

    def post_as(who):
        request = rf.post("/admin/admin/logentry/?user__id__exact=7&action_flag__exact=2")
        request.user = who
        request.session = {}
        request._messages = FallbackStorage(request)
        action["export_admin_log_jsonl"][0](model_admin, request, LogEntry.objects.none())
        return [str(m) for m in request._messages]

    assert "you may not start exports" in post_as(user)[0]
    assert ExportJob.objects.count() == 0
    user.user_permissions.add(Permission.objects.get(codename="add_exportjob"))
    user = django_user_model.objects.get(pk=user.pk)  # fresh permission cache
    assert "needs the permission admin.view_logentry" in post_as(user)[0]
    assert ExportJob.objects.count() == 0
    user.user_permissions.add(Permission.objects.get(codename="view_logentry"))
    user = django_user_model.objects.get(pk=user.pk)
    assert "Started" in post_as(user)[0]
    job = ExportJob.objects.get()
    assert (job.job_type, job.format, job.filter_params) == ("admin.log", "jsonl", {"action_flag": "2", "user": "7"})
