"""The retention category registry: every app registers what may be purged, and how.

A category is one class behind one interface (like an admin ModelAdmin): the model,
the date column that ages a row, extra conditions and a default period. Each app
registers its own in `<app>/retention_categories.py`, found by RetentionConfig.ready(),
so this app never imports a domain model itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, models
from django.db.models import Q, QuerySet

from retention.exceptions import UnknownCategory


class RetentionCategory(ABC):
    """One kind of data that ages out: rows of `model` whose `date_field` < cutoff (and `conditions`)."""

    name: str = ""
    date_field: str = ""
    default_days_to_keep: int = 90
    description: str = ""
    #: the database alias holding the rows (a source's categories purge the service's database)
    using: str = DEFAULT_DB_ALIAS

    @abstractmethod
    def get_model(self) -> type[models.Model]:
        """The model whose rows are purged (imported lazily, so registration never needs the app registry)."""

    def conditions(self) -> Q:
        """Extra conditions a row must meet to be purged (default: none)."""
        return Q()

    def purge_refusal(self) -> str:
        """Why no purge may delete rows of this category now ("" when it may), e.g. a read-only database.

        A dry run still counts; a purge that names the category is refused (409), the daily
        purge of every policy skips it with this reason.
        """
        return ""

    def before_delete_batch(self, batch: QuerySet, *, using: str) -> None:
        """Called in the batch transaction just before `batch` is deleted.

        Delete dependent rows or files here, without loading the batch's rows into
        Python (the delete itself bypasses signals and Django's cascade collector).
        """
        return None

    # -- derived, not overridden ------------------------------------------------
    def cutoff(self, days_to_keep: int, *, now: datetime) -> datetime:
        """Rows dated strictly before this instant are due; whole seconds, so a boundary is exact."""
        return (now - timedelta(days=days_to_keep)).replace(microsecond=0)

    def expired(self, cutoff: datetime, *, using: str | None = None) -> QuerySet:
        """Rows due for purging at `cutoff` (in the category's own database unless `using` says otherwise)."""
        model = self.get_model()
        return model._default_manager.using(using or self.using).filter(
            Q(**{f"{self.date_field}__lt": cutoff}) & self.conditions()
        )

    @property
    def table(self) -> str:
        return self.get_model()._meta.db_table

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class CategoryRegistry:
    """Name -> category instance: the classes registered at start-up, and the categories of run-time
    providers (a source's registered tables), asked on every lookup so every process sees the same."""

    def __init__(self) -> None:
        self._categories: dict[str, RetentionCategory] = {}
        self._providers: list[Callable[[], Iterable[RetentionCategory]]] = []

    def register(self, category_class: type[RetentionCategory]) -> type[RetentionCategory]:
        """Register a category class (usable as a class decorator)."""
        category = category_class()
        if not category.name or not category.date_field:
            raise ValueError(f"{category_class.__name__} needs a name and a date_field")
        if not 1 <= category.default_days_to_keep <= 36500:
            raise ValueError(f"{category.name}: default_days_to_keep must be within 1..36500")
        existing = self._categories.get(category.name)
        if existing is not None and type(existing) is not category_class:
            raise ValueError(f"retention category {category.name!r} is already registered by {existing!r}")
        self._categories[category.name] = category
        return category_class

    def register_provider(
        self, provider: Callable[[], Iterable[RetentionCategory]]
    ) -> Callable[[], Iterable[RetentionCategory]]:
        """Add a source of run-time categories (a name registered in code always wins over one of these)."""
        if provider not in self._providers:
            self._providers.append(provider)
        return provider

    def unregister(self, name: str) -> None:
        self._categories.pop(name, None)

    def is_static(self, name: str) -> bool:
        """True for a category registered in code (a run-time one may not take its name)."""
        return name in self._categories

    def _every(self) -> dict[str, RetentionCategory]:
        found = dict(self._categories)
        for provider in self._providers:
            for category in provider():
                found.setdefault(category.name, category)
        return found

    def get(self, name: str) -> RetentionCategory:
        """The category called `name`; UnknownCategory (a 400) listing the known ones otherwise."""
        if name in self._categories:
            return self._categories[name]
        found = self._every()
        try:
            return found[name]
        except KeyError:
            raise UnknownCategory(name, sorted(found)) from None

    def names(self) -> list[str]:
        return sorted(self._every())

    def all(self) -> list[RetentionCategory]:
        found = self._every()
        return [found[name] for name in sorted(found)]

    def __contains__(self, name: object) -> bool:
        return name in self._categories or (isinstance(name, str) and name in self._every())


registry = CategoryRegistry()
register = registry.register
