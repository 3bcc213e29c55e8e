"""The export form's filters: fields built from each dataset's declared filters, not a JSON box.

Each dataset's FilterSet (what `/system/exports/datasets` describes) gives one group of
fields: a choice filter is a menu, a multiple choice filter checkboxes, a yes/no filter a
menu, a date range two date-time pickers, a number a number field, any other a text field.
What is posted is assembled into the same `filter_params` the API takes — for a snapshot,
one object per dataset picked — and validated by the same service. Only the group of the
dataset picked is read; the others are shown or hidden by exports/static/exports/start_form.js.
"""

from __future__ import annotations

from typing import Any

from django import forms

from exports.models import SNAPSHOT
from exports.registry import all_datasets, get_dataset

RANGE_TYPES = {"IsoDateTimeFromToRangeFilter", "DateTimeFromToRangeFilter", "DateFromToRangeFilter"}


def _inputs(described: dict[str, Any]) -> list[dict[str, Any]]:
    """The inputs of one declared filter: one per query key (a range has two)."""
    kind = {
        "ChoiceFilter": "choice",
        "MultipleChoiceFilter": "multiple",
        "StrictBooleanFilter": "boolean",
        "IntegerFilter": "number",
        "NumberFilter": "number",
    }.get(described["type"], "range" if described["type"] in RANGE_TYPES else "text")
    label = described.get("help") or described["name"].replace("_", " ").capitalize()
    if kind == "range":
        return [
            {"key": key, "kind": "datetime", "label": f"{label} {key.rsplit('_', 1)[1]}"} for key in described["keys"]
        ]
    return [{"key": described["name"], "kind": kind, "label": label, "choices": described.get("choices", [])}]


def dataset_inputs(name: str) -> list[dict[str, Any]]:
    return [item for described in get_dataset(name).describe()["filters"] for item in _inputs(described)]


class DatasetFiltersWidget(forms.Widget):
    template_name = "exports/widgets/dataset_filters.html"

    def format_value(self, value: Any) -> dict[str, Any]:
        return value if isinstance(value, dict) else {}

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        posted = context["widget"]["value"]
        groups = []
        for dataset in all_datasets():
            # Posted values come back per dataset for a snapshot, flat for one dataset.
            values = posted.get(dataset.name) if isinstance(posted.get(dataset.name), dict) else posted
            inputs = []
            for item in dataset_inputs(dataset.name):
                current = values.get(item["key"], "")
                inputs.append({**item, "value": current, "values": current if isinstance(current, list) else [current]})
            groups.append({"dataset": dataset.name, "description": dataset.description, "inputs": inputs})
        context["groups"] = groups
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> dict[str, Any]:
        job_type = data.get("job_type", "")
        names = {dataset.name for dataset in all_datasets()}
        if job_type == SNAPSHOT:
            picked = [dataset for dataset in _getlist(data, "datasets") if dataset in names]
            nested = {dataset: self._group(data, name, dataset) for dataset in picked}
            return {dataset: params for dataset, params in nested.items() if params}
        return self._group(data, name, job_type) if job_type in names else {}

    def _group(self, data: Any, name: str, dataset: str) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for item in dataset_inputs(dataset):
            field = f"{name}__{dataset}__{item['key']}"
            if item["kind"] == "multiple":
                if values := [value for value in _getlist(data, field) if value]:
                    params[item["key"]] = values
            elif value := (data.get(field) or "").strip():
                params[item["key"]] = value
        return params

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False


def _getlist(data: Any, key: str) -> list[str]:
    if hasattr(data, "getlist"):
        return list(data.getlist(key))
    value = data.get(key)
    return value if isinstance(value, list) else ([value] if value is not None else [])


class DatasetFiltersField(forms.Field):
    """`filter_params` as a dict, entered through DatasetFiltersWidget."""

    widget = DatasetFiltersWidget

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dict[str, Any]:
        return value if isinstance(value, dict) else {}
