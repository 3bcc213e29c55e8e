"""`SafeLookupsMixin`: the admin filters, searches and sorts only on what its own screens offer.

Django's changelist applies any query-string lookup on a model's own fields
(`?secret__regex=^whsec_X`, `?config__headers__Authorization__icontains=Bearer`) unless
`lookup_allowed` says no, and sorts on any `list_display` column named by `?o=`. Whether
a row is listed is then an oracle: a staff member with only *view* permission can
recover a value the admin never shows, one character at a time. So every ModelAdmin of
the project (the third-party ones are re-registered in `opsconsole/admin.py`) uses this
mixin, which turns that default around:

1. A query-string lookup is allowed only on a path that the admin's own `list_filter` or
   `date_hierarchy` offers (or `extra_lookup_fields` names): `status__exact`,
   `channel__id__exact`, `created_at__gte`… Every other field is refused, so a field that
   becomes secret later is safe without anyone remembering to list it.
2. `secret_fields` names the model's fields whose values the admin never shows (signing
   secrets, credential-bearing URLs and config, password hashes, token digests). They are
   refused as lookups even through a relation from another admin, dropped from search
   and sorting, and `manage.py check` reports an admin that lists them in `list_filter`,
   `search_fields`, `date_hierarchy` or a sortable column.

A refused lookup is Django's `DisallowedModelAdminLookup`: a 400, whatever the value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.filters import SimpleListFilter
from django.contrib.admin.views.main import ChangeList
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.constants import LOOKUP_SEP

from opsconsole.admin_readonly import ReadOnlyAwareMixin


def secret_fields_of(model: type[models.Model], admin_site: admin.AdminSite | None = None) -> frozenset[str]:
    """The fields of `model` that its registered admin declares secret (none when unregistered)."""
    model_admin = (admin_site or admin.site)._registry.get(model)
    return frozenset(getattr(model_admin, "secret_fields", ()))


def field_path(model: type[models.Model], lookup: str) -> list[tuple[type[models.Model], models.Field]]:
    """The model fields a lookup walks, with the model each belongs to; transforms, lookups and
    JSON key paths after the last field are dropped (`config__headers__X__icontains` -> config)."""
    path: list[tuple[type[models.Model], models.Field]] = []
    for part in lookup.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            break
        path.append((model, field))
        if not field.is_relation or field.related_model is None:
            break
        model = field.related_model
    return path


class SafeChangeList(ChangeList):
    """A changelist that never sorts on a secret column, whatever `?o=` asks."""

    def get_ordering_field(self, field_name: Any) -> Any:
        order_field = super().get_ordering_field(field_name)
        if isinstance(order_field, str) and self.model_admin.path_is_secret(order_field.lstrip("-")):
            return None  # the column is then not sortable: `?o=` on it is ignored
        return order_field


class SafeLookupsMixin:
    """Allow-list the changelist's lookups, search and sorting; never touch `secret_fields`."""

    #: fields whose values this admin never shows: never filtered, searched or sorted on
    secret_fields: tuple[str, ...] = ()
    #: further field paths the query string may filter on (besides list_filter and date_hierarchy)
    extra_lookup_fields: tuple[str, ...] = ()

    # --- the rule -----------------------------------------------------------------
    def path_is_secret(self, lookup: str) -> bool:
        """Whether a lookup or ordering path touches a secret field of any model it walks through."""
        return any(
            field.name in secret_fields_of(owner, self.admin_site) for owner, field in field_path(self.model, lookup)
        )

    def _offered_paths(self, request: Any) -> tuple[set[tuple[str, ...]], set[str]]:
        """Field paths the admin's own filters use, and the parameter names of its custom filters."""
        paths: set[tuple[str, ...]] = set()
        parameters: set[str] = set()
        list_filter = self.get_list_filter(request) if request is not None else self.list_filter
        for item in list_filter:
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                parameters.add(item.parameter_name)
                continue
            name = item[0] if isinstance(item, (list, tuple)) else item
            if isinstance(name, str):
                paths.add(tuple(name.split(LOOKUP_SEP)))
        for name in (self.date_hierarchy, *self.extra_lookup_fields):
            if name:
                paths.add(tuple(name.split(LOOKUP_SEP)))
        return paths, parameters

    def lookup_allowed(self, lookup: str, value: Any, request: Any = None) -> bool:
        if self._is_raw_id_popup_lookup(lookup, value):
            return True
        if self.path_is_secret(lookup):
            return False
        offered, parameters = self._offered_paths(request)
        walked = field_path(self.model, lookup)
        if not walked:
            # Not a model field: only the parameter of one of the admin's own custom filters.
            return lookup in parameters
        names = tuple(field.name for _, field in walked)
        for prefix in offered:
            if names == prefix:
                break
            # A relation filter sends the related row's key: `channel__id__exact` for `channel`.
            if names[:-1] == prefix and walked[-1][1].primary_key:
                break
        else:
            return False
        return super().lookup_allowed(lookup, value, request)  # Django's own rules on relations

    def _is_raw_id_popup_lookup(self, lookup: str, value: Any) -> bool:
        # Django lets the raw-id popup filter by a ForeignKey's limit_choices_to; keep that.
        for fk_lookup in self.model._meta.related_fkey_lookups:
            if callable(fk_lookup):
                fk_lookup = fk_lookup()
            if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
                return True
        return False

    # --- search and sorting -------------------------------------------------------
    def get_search_fields(self, request: Any) -> Iterable[str]:
        return [name for name in super().get_search_fields(request) if not self.path_is_secret(name.lstrip("^=@"))]

    def get_changelist(self, request: Any, **kwargs: Any) -> type[ChangeList]:
        return SafeChangeList

    def get_sortable_by(self, request: Any) -> Iterable[str]:
        return [name for name in super().get_sortable_by(request) if not self._column_is_secret(name)]

    def _column_is_secret(self, column: Any) -> bool:
        if not isinstance(column, str):
            return False
        attr = getattr(self, column, None) or getattr(self.model, column, None)
        order_field = getattr(getattr(attr, "fget", attr), "admin_order_field", None)
        return self.path_is_secret(column) or (isinstance(order_field, str) and self.path_is_secret(order_field))

    # --- `manage.py check` --------------------------------------------------------
    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = list(super().check(**kwargs))
        leaks = [
            *(("list_filter", name) for name in self._declared_filter_names() if self.path_is_secret(name)),
            *(("search_fields", name) for name in self.search_fields if self.path_is_secret(name.lstrip("^=@"))),
            *(("list_display", name) for name in self.list_display if self._column_is_secret(name)),
        ]
        if self.date_hierarchy and self.path_is_secret(self.date_hierarchy):
            leaks.append(("date_hierarchy", self.date_hierarchy))
        for option, name in leaks:
            errors.append(
                checks.Error(
                    f"{option} names {name!r}, a secret field: the changelist would be an oracle for it.",
                    obj=self.__class__,
                    id="opsconsole.E001",
                )
            )
        return errors

    def _declared_filter_names(self) -> list[str]:
        names = []
        for item in self.list_filter:
            name = item[0] if isinstance(item, (list, tuple)) else item
            if isinstance(name, str):
                names.append(name)
        return names


class SafeModelAdmin(ReadOnlyAwareMixin, SafeLookupsMixin, admin.ModelAdmin):
    """The project's ModelAdmin base: see the module docstring, and opsconsole/admin_readonly.py."""
