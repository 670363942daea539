"""How many SMS segments a text takes and in which encoding (S5, S7): pure, no I/O.

GSM-7 texts take 160 characters in one segment, 153 per segment when concatenated; the extension
characters (^{}\\[~]|€ and form feed) take two septets. Anything outside GSM-7 is sent as UCS-2:
70 characters in one segment, 67 per segment when concatenated (counted in UTF-16 code units).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

# The one copy of the GSM 03.38 tables: the compose box's script reads them from the page
# (`gsm7_tables`), so the browser's live count and the recorded segments never disagree.
GSM7_BASIC_CHARS = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION_CHARS = "^{}\\[~]|€\f"
GSM7_BASIC = frozenset(GSM7_BASIC_CHARS)
GSM7_EXTENSION = frozenset(GSM7_EXTENSION_CHARS)


def gsm7_tables() -> dict[str, str]:
    """The tables for the page (rendered with `json_script`)."""
    return {"basic": GSM7_BASIC_CHARS, "extension": GSM7_EXTENSION_CHARS}


Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    encoding: Encoding
    units: int
    segments: int


@lru_cache(maxsize=64)
def segments_count(body: str) -> SegmentInfo:
    """The encoding Twilio will use for `body` and the number of segments it takes (cached: a
    cohort's texts share one body)."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in body):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in body)
        single, multi = 160, 153
        encoding: Encoding = "GSM-7"
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
        encoding = "UCS-2"
    if units <= single:
        return SegmentInfo(encoding=encoding, units=units, segments=1 if units else 0)
    return SegmentInfo(encoding=encoding, units=units, segments=-(-units // multi))
