"""The JSON parser of every /system endpoint: DRF's, refusing what the database cannot take."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 64


class TooDeep(Exception):
    pass


def nul_character_path(data: Any, *, max_depth: int = MAX_DEPTH) -> str | None:
    """The path (`payload.a[2]`) of the first string or key holding U+0000, or None.

    PostgreSQL text and jsonb cannot store it; without this check the insert fails and
    the request is a 500 instead of a 400. Raises TooDeep past `max_depth` levels of
    nesting (later copies and dumps of such a value recurse and fail).
    """
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > max_depth:
            raise TooDeep(path)
        if isinstance(value, str):
            if "\x00" in value:
                return path or "(body)"
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if "\x00" in str(key):
                    return child
                stack.append((child, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item, depth + 1) for index, item in enumerate(value))
    return None


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        try:
            path = nul_character_path(data)
        except TooDeep:
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep.") from None
        if path is not None:
            # A field error on the top-level key, so clients see it where they sent it.
            field = path.split(".", 1)[0].split("[", 1)[0]
            raise ValidationError({field: [f"{path} contains a NUL character (\\u0000), which cannot be stored."]})
        return data
