"""Every /system path as it resolves, for the routing snapshot (opsconsole/tests/data/routes.json).

Run `python -m opsconsole.tests.routes > opsconsole/tests/data/routes.json` to write it
again after adding an endpoint on purpose.
"""

from __future__ import annotations

import json
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import Resolver404

SAMPLE_KWARGS = {"pk": "7", "category": "notifications.outbox", "source": "shop"}


def named_routes(patterns: list[Any] | None = None, namespace: str = "") -> list[str]:
    names = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names += named_routes(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.append(f"{namespace}{entry.name}")
    return sorted(set(names))


def _reverse(name: str) -> str:
    from django.urls import NoReverseMatch

    for kwargs in ({}, *({key: value} for key, value in SAMPLE_KWARGS.items())):
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    raise NoReverseMatch(name)


def describe(path: str) -> str:
    from django.urls import resolve

    try:
        match = resolve(path)
    except Resolver404:
        return "404"
    view = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None) or match.func
    actions = getattr(match.func, "actions", None)
    label = f"{view.__module__}.{view.__qualname__}"
    if actions:
        # DRF adds head=<the get action> to a ViewSet's actions on its first request: leave it out.
        label += " " + ",".join(f"{m}={a}" for m, a in sorted(actions.items()) if m != "head")
    kwargs = ",".join(f"{k}={v}" for k, v in sorted(match.kwargs.items()))
    return f"{match.view_name or '-'} {label} {kwargs}".strip()


def snapshot() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    reversed_paths = {name: _reverse(name) for name in named_routes() if not name.startswith("admin:")}
    probes = set()
    for path in reversed_paths.values():
        if path.startswith("/system"):
            probes |= {path, path.rstrip("/") + "/", path.rstrip("/"), path.rstrip("/") + "5", path.rstrip("/") + "x/"}
    probes |= {"/health", "/health/", "/metrics", "/metrics/", "/favicon.ico", "/system", "/system/", "/systemx"}
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        "reverse": reversed_paths,
        "resolve": {path: describe(path) for path in sorted(probes)},
        "schema_paths": {path: sorted(ops) for path, ops in sorted(schema["paths"].items())},
    }


if __name__ == "__main__":
    import django

    django.setup()
    print(json.dumps(snapshot(), indent=1, sort_keys=True))
