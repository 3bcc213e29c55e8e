"""The dataset registry: every app registers what may be exported in its `datasets.py`.

A dataset is a name, a queryset factory, the exported columns and a django-filter
FilterSet. Filters are validated against the FilterSet when a job is created and stored
as filters (never as primary-key lists), so a job reads the rows as they are when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import django_filters
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, models
from django.db.models import F, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import QueryDict

from exports.exceptions import InvalidExportRequest, UnknownDataset
from opsconsole.api.filters import StrictBooleanFilter, StrictFilterBackend, filter_keys


class Kind(StrEnum):
    """How a column's values are typed in the files (inferred from the model field)."""

    INT = "int"
    STR = "str"
    BOOL = "bool"
    DATETIME = "datetime"
    DATE = "date"
    JSON = "json"


_KIND_BY_INTERNAL_TYPE = {
    "AutoField": Kind.INT,
    "BigAutoField": Kind.INT,
    "SmallAutoField": Kind.INT,
    "IntegerField": Kind.INT,
    "BigIntegerField": Kind.INT,
    "SmallIntegerField": Kind.INT,
    "PositiveIntegerField": Kind.INT,
    "PositiveBigIntegerField": Kind.INT,
    "PositiveSmallIntegerField": Kind.INT,
    "CharField": Kind.STR,
    "TextField": Kind.STR,
    "SlugField": Kind.STR,
    "EmailField": Kind.STR,
    "URLField": Kind.STR,
    "BooleanField": Kind.BOOL,
    "DateTimeField": Kind.DATETIME,
    "DateField": Kind.DATE,
    "JSONField": Kind.JSON,
}


@dataclass(frozen=True)
class Column:
    """One exported column: its name in the file and the model field path it reads."""

    name: str
    source: str = ""
    kind: Kind | None = None
    #: a database expression computed in place of a field (needs `kind`), e.g. a redacted value
    expression: Any = field(default=None, compare=False)

    @property
    def path(self) -> str:
        return self.source or self.name


def _resolve_field(model: type[models.Model], path: str) -> models.Field:
    parts = path.split("__")
    for index, part in enumerate(parts):
        try:
            model_field = model._meta.get_field(part)
        except FieldDoesNotExist as exc:
            raise ImproperlyConfigured(f"{model.__name__} has no field {part!r} (column path {path!r})") from exc
        if index < len(parts) - 1:
            if not model_field.is_relation:
                raise ImproperlyConfigured(f"{path!r}: {part!r} is not a relation")
            model = model_field.related_model
    return model_field


def _field_kind(model_field: models.Field) -> Kind:
    if model_field.is_relation and model_field.many_to_one:
        return _field_kind(model_field.target_field)
    internal = model_field.get_internal_type()
    try:
        return _KIND_BY_INTERNAL_TYPE[internal]
    except KeyError as exc:
        raise ImproperlyConfigured(f"column type {internal} is not exportable yet") from exc


# A filter is stored with its job and shown in every export of exports.jobs: keep it small.
MAX_FILTER_VALUE_LENGTH = 1000
MAX_FILTER_VALUES = 100


def _canonical_value(value: Any) -> str | list[str]:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return [_canonical_value(item) for item in value]  # type: ignore[misc]
    return str(value)


@dataclass
class Dataset:
    """One exportable dataset."""

    name: str
    queryset: Callable[[], QuerySet]
    columns: Sequence[Column | str]
    filterset: type[django_filters.FilterSet]
    description: str = ""
    #: the database alias the rows are read from (a source's datasets read the service's database)
    using: str = DEFAULT_DB_ALIAS
    resolved: list[Column] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        model = self.queryset().model
        for column in self.columns:
            column = Column(column) if isinstance(column, str) else column
            if column.expression is not None:
                if column.kind is None:
                    raise ImproperlyConfigured(f"dataset {self.name}: column {column.name!r} needs a kind")
                self.resolved.append(column)
                continue
            kind = column.kind or _field_kind(_resolve_field(model, column.path))
            self.resolved.append(Column(column.name, column.path, kind))
        names = [column.name for column in self.resolved]
        if len(set(names)) != len(names):
            raise ImproperlyConfigured(f"dataset {self.name}: duplicate column names")
        for name, flt in self.filterset.base_filters.items():
            # django-filter's own reads `maybe` as "no filter": the export would hold every row.
            if isinstance(flt, django_filters.BooleanFilter) and not isinstance(flt, StrictBooleanFilter):
                raise ImproperlyConfigured(f"dataset {self.name}: filter {name!r} must be a StrictBooleanFilter")

    @property
    def view_permission(self) -> str:
        """Who may export the rows: those who may view them (`<app>.view_<model>`)."""
        opts = self.queryset().model._meta
        return f"{opts.app_label}.view_{opts.model_name}"

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.resolved]

    def filter_keys(self) -> set[str]:
        return filter_keys(self.filterset)

    def validate_filters(self, params: Any, *, field_name: str = "filter_params") -> dict[str, Any]:
        """Check `params` against the FilterSet; return them in a canonical, storable form."""
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise InvalidExportRequest(
                f"{field_name} must be an object.", fields={field_name: ["Expected an object of filters."]}
            )
        allowed = self.filter_keys()
        errors: dict[str, list[str]] = {}
        for key in sorted(set(params) - allowed):
            errors[f"{field_name}.{key}"] = [
                f"Unknown filter for {self.name}. Allowed: {', '.join(sorted(allowed)) or 'none'}."
            ]
        canonical = {key: _canonical_value(params[key]) for key in sorted(params) if key in allowed}
        for key, value in canonical.items():
            values = value if isinstance(value, list) else [value]
            if len(values) > MAX_FILTER_VALUES or any(len(item) > MAX_FILTER_VALUE_LENGTH for item in values):
                errors[f"{field_name}.{key}"] = [
                    f"At most {MAX_FILTER_VALUES} values of {MAX_FILTER_VALUE_LENGTH} characters each."
                ]
        filterset = self.filterset(data=self._query_dict(canonical), queryset=self.queryset())
        if not filterset.is_valid():
            # Named by the keys the client sent (a range filter reports under its own name).
            for key, messages in StrictFilterBackend.errors_by_query_key(filterset, canonical).items():
                errors[f"{field_name}.{key}"] = messages
        if errors:
            names = ", ".join(sorted(errors))
            raise InvalidExportRequest(f"Invalid filters for {self.name}: {names}.", fields=errors)
        return self._normalised(canonical, filterset.form.cleaned_data)

    def _normalised(self, canonical: dict[str, Any], cleaned: Mapping[str, Any]) -> dict[str, Any]:
        """One spelling per meaning, from the values the filters parsed: the same request written
        differently (`["b","a"]`/`["a","b"]`, `"01"`/`"1"`, a date/its midnight in UTC) is
        stored the same, so an identical pending job is found and returned, not duplicated."""
        normal = dict(canonical)
        for key, raw in canonical.items():
            if key in self.filterset.base_filters:
                value = cleaned.get(key)
            else:  # a range filter's `<name>_after` / `_before` / `_min` / `_max`
                name, _, suffix = key.rpartition("_")
                bounds = cleaned.get(name)
                value = getattr(bounds, "start" if suffix in ("after", "min") else "stop", None)
            if isinstance(value, bool):
                normal[key] = "true" if value else "false"
            elif isinstance(value, datetime):
                normal[key] = value.astimezone(UTC).isoformat()
            elif isinstance(value, int) and not isinstance(value, bool):
                normal[key] = str(value)
            elif isinstance(value, list | tuple):  # a multiple choice: ["sent"] is "sent"
                items = sorted({str(item) for item in value})
                normal[key] = items[0] if len(items) == 1 else items
            elif isinstance(raw, list):
                normal[key] = sorted(set(raw))
        return normal

    @staticmethod
    def _query_dict(params: Mapping[str, Any]) -> QueryDict:
        data = QueryDict(mutable=True)
        for key, value in params.items():
            if isinstance(value, list):
                data.setlist(key, value)
            else:
                data[key] = value
        return data

    def filtered_queryset(self, params: Mapping[str, Any]) -> QuerySet:
        """The rows the filters select, in primary-key order (stable output, keyset friendly)."""
        filterset = self.filterset(data=self._query_dict(params), queryset=self.queryset())
        if not filterset.is_valid():
            raise InvalidExportRequest(f"Invalid filters for {self.name}.", fields=dict(filterset.errors))
        return filterset.qs.order_by("pk")

    def rows_queryset(
        self, params: Mapping[str, Any], *, as_text: frozenset[Kind] = frozenset({Kind.JSON})
    ) -> QuerySet:
        """`values_list` of the exported columns, the kinds in `as_text` cast to text in SQL.

        By default JSON columns are read as the database's own JSON text (no parse/dump round
        trip); a CSV COPY also casts booleans to 'true'/'false' as the Python CSV writer prints them.
        """
        expressions: list[Any] = []
        for column in self.resolved:
            value = column.expression if column.expression is not None else F(column.path)
            if column.kind in as_text:
                expressions.append(Cast(value, TextField()))
            else:
                expressions.append(value if column.expression is not None else column.path)
        return self.filtered_queryset(params).values_list(*expressions)

    def describe(self) -> dict[str, Any]:
        filters = []
        for name, flt in self.filterset.base_filters.items():
            widget = getattr(flt.field_class, "widget", None)
            suffixes = getattr(widget, "suffixes", None)
            entry: dict[str, Any] = {
                "name": name,
                "type": type(flt).__name__,
                "keys": sorted(f"{name}_{s}" if s else name for s in suffixes) if suffixes else [name],
            }
            choices = flt.extra.get("choices")
            if choices:
                entry["choices"] = [value for value, _label in choices]
            if flt.label:
                entry["help"] = str(flt.label)
            filters.append(entry)
        return {
            "name": self.name,
            "description": self.description,
            "columns": [{"name": c.name, "type": str(c.kind)} for c in self.resolved],
            "filters": filters,
        }


_datasets: dict[str, Dataset] = {}
#: Callables returning datasets that come and go at run time (a source's registered tables),
#: asked on every lookup: what they return is read from the database, the same in every process.
_providers: list[Callable[[], Iterable[Dataset]]] = []


def register(dataset: Dataset) -> Dataset:
    """Add a dataset; called from each app's datasets.py at start-up."""
    if dataset.name in _datasets and _datasets[dataset.name] is not dataset:
        raise ImproperlyConfigured(f"dataset {dataset.name!r} is registered twice")
    _datasets[dataset.name] = dataset
    return dataset


def register_provider(provider: Callable[[], Iterable[Dataset]]) -> Callable[[], Iterable[Dataset]]:
    """Add a source of run-time datasets (a name registered in code always wins over one of these)."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def is_static_dataset(name: str) -> bool:
    """True for a dataset registered in code (a run-time one may not take its name)."""
    return name in _datasets


def _every_dataset() -> dict[str, Dataset]:
    found = dict(_datasets)
    for provider in _providers:
        for dataset in provider():
            found.setdefault(dataset.name, dataset)
    return found


def get_dataset(name: str, *, field_name: str = "job_type") -> Dataset:
    """The dataset called `name`, or a 400 listing the known ones."""
    if isinstance(name, str) and name in _datasets:
        return _datasets[name]
    found = _every_dataset()
    try:
        return found[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(found))
        raise UnknownDataset(
            f"Unknown dataset {name!r}. Known: {known}.", fields={field_name: [f"Unknown dataset. Known: {known}."]}
        ) from None


def dataset_names() -> list[str]:
    return sorted(_every_dataset())


def all_datasets() -> Iterable[Dataset]:
    found = _every_dataset()
    return [found[name] for name in sorted(found)]
