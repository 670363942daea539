"""Merge fields in a text's body (K3): `{first_name}`, `{last_name}`, `{staff_first_name}`,
`{staff_last_name}`, replaced per recipient. Pure: no ORM, settings, clock or I/O.

Only `{word}` is a placeholder; any other brace is text. A placeholder that is not one of the
fields is refused before anything is recorded, naming it, and so is a field's name touching a
brace that does not make a placeholder (`{first_name`, `first_name}`, `{{first_name}}`): a typo
that would otherwise reach the student as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

FIELDS = ("first_name", "last_name", "staff_first_name", "staff_last_name")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# A field's name with the braces touching it, to find the ones that make no placeholder.
_BRACED_NAME = re.compile(r"\{*\b(?:" + "|".join(FIELDS) + r")\b\}*")


def placeholders(body: str) -> list[str]:
    """The placeholders of `body`, in order of first appearance."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(body)))


def unknown(body: str) -> list[str]:
    return [name for name in placeholders(body) if name not in FIELDS]


def malformed(body: str) -> list[str]:
    """The fields of `body` written with a brace missing or doubled, as written."""
    found = (
        match[0] for match in _BRACED_NAME.finditer(body) if "{" in match[0] or "}" in match[0]
    )
    return list(dict.fromkeys(text for text in found if _PLACEHOLDER.fullmatch(text) is None))


def refusal(body: str) -> str:
    """Why `body` cannot be sent because of its placeholders; "" when it can."""
    broken = malformed(body)
    if broken:
        written = ", ".join(f"“{text}”" for text in broken)
        fixed = ", ".join(dict.fromkeys("{" + text.strip("{}") + "}" for text in broken))
        return (
            f"{written}: a merge field needs one brace on each side; write {fixed}, "
            "or leave the braces out to send the word as it is."
        )
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
