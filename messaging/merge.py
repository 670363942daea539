"""Merge fields in a text's body (K3): `{first_name}`, `{last_name}`, `{staff_first_name}`,
`{staff_last_name}`, replaced per recipient. Pure: no ORM, settings, clock or I/O.

Only `{word}` is a placeholder; any other brace is text. A placeholder that is not one of the
fields is refused before anything is recorded, naming it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

FIELDS = ("first_name", "last_name", "staff_first_name", "staff_last_name")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def placeholders(body: str) -> list[str]:
    """The placeholders of `body`, in order of first appearance."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(body)))


def unknown(body: str) -> list[str]:
    return [name for name in placeholders(body) if name not in FIELDS]


def refusal(body: str) -> str:
    """Why `body` cannot be sent because of its placeholders; "" when it can."""
    wrong = unknown(body)
    if not wrong:
        return ""
    named = ", ".join("{" + name + "}" for name in wrong)
    known = ", ".join("{" + name + "}" for name in FIELDS)
    noun = "placeholder" if len(wrong) == 1 else "placeholders"
    return f"Unknown {noun} {named}: the fields are {known}."


def merge(body: str, values: Mapping[str, str]) -> str:
    """`body` with each known placeholder replaced by its value ("" when missing)."""
    if "{" not in body:
        return body
    return _PLACEHOLDER.sub(
        lambda match: values.get(match[1], "") if match[1] in FIELDS else match[0], body
    )


def values_for(
    *, first_name: str, last_name: str, staff_first_name: str, staff_last_name: str
) -> dict[str, str]:
    return {
        "first_name": first_name,
        "last_name": last_name,
        "staff_first_name": staff_first_name,
        "staff_last_name": staff_last_name,
    }
