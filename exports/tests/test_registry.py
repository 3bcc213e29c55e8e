import pytest

from exports import registry
from exports.exceptions import InvalidExportRequest, UnknownDataset
from exports.registry import Kind

DESIGN_DATASETS = {
    "notifications.channels",
    "notifications.outbox",
    "notifications.attempts",
    "exports.jobs",
    "retention.policies",
    "retention.purge_runs",
    "maintenance.events",
    "admin.log",
}


def test_every_dataset_named_in_the_design_is_registered_at_start_up():
    assert set(registry.dataset_names()) >= DESIGN_DATASETS


def test_the_channel_dataset_never_exports_the_webhook_secret():
    columns = registry.get_dataset("notifications.channels").column_names
    assert "secret" not in columns
    assert {"name", "channel_type", "target"} <= set(columns)


def test_column_kinds_are_inferred_from_the_model_fields():
    kinds = {c.name: c.kind for c in registry.get_dataset("notifications.outbox").resolved}
    assert kinds["id"] == Kind.INT
    assert kinds["channel_id"] == Kind.INT
    assert kinds["payload"] == Kind.JSON
    assert kinds["created_at"] == Kind.DATETIME
    assert kinds["body"] == Kind.STR
    log_kinds = {c.name: c.kind for c in registry.get_dataset("admin.log").resolved}
    assert log_kinds["username"] == Kind.STR


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(UnknownDataset) as caught:
        registry.get_dataset("notifications.nope")
    assert "notifications.outbox" in caught.value.fields["job_type"][0]


@pytest.mark.django_db
def test_filters_are_validated_and_stored_canonical():
    dataset = registry.get_dataset("notifications.outbox")
    cleaned = dataset.validate_filters({"status": ["sent", "failed"], "channel": 3, "created_after": "2026-01-01"})
    assert cleaned == {"channel": "3", "created_after": "2026-01-01T00:00:00+00:00", "status": ["failed", "sent"]}
    assert list(cleaned) == sorted(cleaned)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ({"status": "sent"}, {"status": ["sent"]}),
        ({"status": ["sent", "failed"]}, {"status": ["failed", "sent", "sent"]}),
        ({"channel": "1"}, {"channel": "01"}),
        ({"created_after": "2020-01-01"}, {"created_after": "2020-01-01T00:00:00Z"}),
        ({"created_after": "2020-01-01T01:00:00+01:00"}, {"created_after": "2020-01-01T00:00:00+00:00"}),
    ],
)
def test_the_same_filters_written_differently_are_stored_the_same(one, other):
    dataset = registry.get_dataset("notifications.outbox")
    assert dataset.validate_filters(one) == dataset.validate_filters(other)


@pytest.mark.django_db
def test_unknown_filter_keys_and_bad_values_are_named_in_the_error():
    dataset = registry.get_dataset("notifications.outbox")
    with pytest.raises(InvalidExportRequest) as caught:
        dataset.validate_filters({"stauts": "sent", "channel": "abc", "status": ["exploded"]})
    fields = caught.value.fields
    assert set(fields) == {"filter_params.stauts", "filter_params.channel", "filter_params.status"}
    assert "Allowed:" in fields["filter_params.stauts"][0]


@pytest.mark.django_db
def test_filter_params_must_be_an_object():
    with pytest.raises(InvalidExportRequest):
        registry.get_dataset("notifications.outbox").validate_filters(["status", "sent"])


@pytest.mark.django_db
def test_filtered_queryset_is_in_primary_key_order_without_distinct():
    qs = registry.get_dataset("notifications.outbox").rows_queryset({"status": ["sent", "failed"]})
    sql = str(qs.query)
    assert "DISTINCT" not in sql
    assert sql.rstrip().endswith('"id" ASC')


def test_describe_lists_columns_and_filter_keys():
    described = registry.get_dataset("notifications.outbox").describe()
    assert {"name": "payload", "type": "json"} in described["columns"]
    created = next(f for f in described["filters"] if f["name"] == "created")
    assert created["keys"] == ["created_after", "created_before"]


@pytest.mark.django_db
def test_a_boolean_filter_that_is_not_true_or_false_is_refused_not_ignored():
    dataset = registry.get_dataset("notifications.channels")
    assert dataset.validate_filters({"active": True, "paused": "0"}) == {"active": "true", "paused": "false"}
    with pytest.raises(InvalidExportRequest) as caught:
        dataset.validate_filters({"active": "yes please"})
    assert caught.value.fields == {"filter_params.active": ["Must be true or false."]}


@pytest.mark.django_db
def test_a_boolean_filter_really_filters():
    from exports.tests.factories import ChannelFactory

    ChannelFactory(active=True)
    quiet = ChannelFactory(active=False)
    dataset = registry.get_dataset("notifications.channels")
    rows = list(dataset.filtered_queryset(dataset.validate_filters({"active": "0"})))
    assert rows == [quiet]


def test_provided_datasets_come_and_go_and_never_shadow_a_registered_one(monkeypatch):
    import django_filters

    from exports.models import ExportJob

    class NoFilter(django_filters.FilterSet):
        class Meta:
            model = ExportJob
            fields: list[str] = []

    def dataset(name):
        return registry.Dataset(name=name, queryset=ExportJob.objects.all, columns=["id"], filterset=NoFilter)

    provided = [dataset("shop.orders"), dataset("exports.jobs")]
    monkeypatch.setattr(registry, "_providers", [lambda: provided])
    assert "shop.orders" in registry.dataset_names()
    assert registry.get_dataset("exports.jobs") is not provided[1]
    assert not registry.is_static_dataset("shop.orders")
    provided.clear()
    assert "shop.orders" not in registry.dataset_names()
    with pytest.raises(UnknownDataset):
        registry.get_dataset("shop.orders")
