"""The API's JSON parser: DRF's, with a nesting limit so no body can make a request fail with a
500 (Python's decoder raises RecursionError about 1,000 levels deep, a 2 KB body)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# The API's own bodies nest at most 4 levels (an import's people[i].phones[j]); 64 leaves room
# for any client's habits and stays far below the decoder's recursion limit.
MAX_DEPTH = 64

TOO_DEEP = (
    f"JSON nested more than {MAX_DEPTH} levels deep (arrays and objects inside each other); "
    "this API's bodies need at most 4."
)


def nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays and objects in `value` nest more than `limit` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, Mapping) else item
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested deeper than MAX_DEPTH is a 400 that says so."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(TOO_DEEP) from exc
        if isinstance(data, dict | list) and nesting_exceeds(data, MAX_DEPTH):
            raise ParseError(TOO_DEEP)
        return data
