"""Reading the CSV files people upload (prospects, the SIS feed): any line ending, and a message
a person can act on when the file cannot be read."""

from __future__ import annotations

import csv
import io


def csv_dict_reader(text: str) -> csv.DictReader[str]:
    """A reader over `text` that takes every line ending: LF, CRLF, and the lone CR of
    spreadsheets' "CSV (Macintosh)" exports (`newline=""`, as the csv module asks)."""
    return csv.DictReader(io.StringIO(text, newline=""))


def csv_error_message(exc: csv.Error, line: int) -> str:
    """What went wrong when the csv module gave up at `line` (the underlying reader's
    `line_num`: a DictReader's own counts only the rows it returned), in words for the
    uploader."""
    if "field larger than field limit" in str(exc):
        return (
            f"The file cannot be read past line {line}: a value there is longer than "
            f'{csv.field_size_limit():,} characters. Look for a double quote (") that opens a '
            "value and is never closed: it swallows the rest of the file into that value."
        )
    return f"The file cannot be read as CSV past line {line} ({exc}). Save it as CSV and retry."
