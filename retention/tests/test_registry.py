import pytest

from opsconsole.api.exceptions import status_of
from retention.exceptions import UnknownCategory
from retention.registry import CategoryRegistry, RetentionCategory, registry


def test_every_app_registers_its_categories_at_start_up():
    assert registry.names() == [
        "admin.log",
        "exports.jobs",
        "maintenance.events",
        "notifications.attempts",
        "notifications.outbox",
        "retention.purge_runs",
    ]


def test_each_category_names_its_model_and_date_column():
    outbox = registry.get("notifications.outbox")
    assert (outbox.table, outbox.date_field) == ("notification_outbox", "created_at")
    assert registry.get("admin.log").table == "django_admin_log"
    assert registry.get("maintenance.events").date_field == "at"


def test_an_unknown_category_is_an_error_listing_the_known_ones():
    with pytest.raises(UnknownCategory) as excinfo:
        registry.get("notifications.outbx")
    assert status_of(excinfo.value) == 400
    assert "notifications.outbox" in excinfo.value.detail
    assert excinfo.value.fields["category"]


def test_two_classes_cannot_register_the_same_name():
    local = CategoryRegistry()

    class First(RetentionCategory):
        name = "x.rows"
        date_field = "created_at"

        def get_model(self):
            raise NotImplementedError

    class Second(First):
        pass

    local.register(First)
    with pytest.raises(ValueError, match="already registered"):
        local.register(Second)


def test_a_default_period_outside_the_policy_range_is_refused():
    class TooLong(RetentionCategory):
        name = "x.forever"
        date_field = "created_at"
        default_days_to_keep = 40000

        def get_model(self):
            raise NotImplementedError

    with pytest.raises(ValueError, match="1..36500"):
        CategoryRegistry().register(TooLong)


def test_provided_categories_come_and_go_and_never_shadow_a_registered_one():
    local = CategoryRegistry()

    class Static(RetentionCategory):
        name = "app.rows"
        date_field = "created_at"

        def get_model(self):
            raise NotImplementedError

    class Provided(Static):
        def __init__(self, name: str) -> None:
            self.name = name

    local.register(Static)
    provided: list[RetentionCategory] = [Provided("shop.orders"), Provided("app.rows")]
    local.register_provider(lambda: provided)
    assert local.names() == ["app.rows", "shop.orders"]
    assert type(local.get("app.rows")) is Static
    assert "shop.orders" in local and not local.is_static("shop.orders")
    provided.clear()
    assert "shop.orders" not in local
    with pytest.raises(UnknownCategory):
        local.get("shop.orders")
