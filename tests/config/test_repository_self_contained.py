"""The repository explains itself: no file points at a document outside it, and every rule id
that a file cites (R2, S1, T3, ...) is defined in docs/RULES.md."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
THIS_FILE = Path(__file__).resolve().relative_to(ROOT).as_posix()
RULES = "docs/RULES.md"

# Team documents that live beside the repository, not in it: a clone does not have them.
OUTSIDE_POINTERS = [
    re.compile(r"\.\./shared|/work/shared"),
    re.compile(r"\b(?:SPEC|ENGINEERING|TWILIO|STYLE)\.md\b", re.IGNORECASE),
    # "SPEC R7", "SPEC's contract", "(SPEC: ...)": the team's spec cited by name in prose. A
    # Python name `SPEC = ...` is not prose.
    re.compile(r"\bSPEC(?:'s)?(?=[ :])(?!\s*=)"),
]
RULE_ID = re.compile(r"\b[CPRSTVQKA]\d{1,2}\b")
DEFINITION = re.compile(r"^- \*\*([CPRSTVQKA]\d{1,2})\*\*", re.MULTILINE)
# Tokens shaped like a rule id that are not one. (One shaped like a defined id, an "S3 bucket"
# say, passes anyway: the check is that no cited id is missing from docs/RULES.md.)
NOT_RULE_IDS = {
    "T0": "a fixed start time in tests and benchmarks (`T0 = datetime(...)`)",
    "A0": "a spreadsheet cell in the Message Report's CSV formula-injection cases",
}
# Generated or vendored files nobody writes by hand (and JSON data never cites a rule).
SKIPPED_SUFFIXES = {".json", ".png", ".jpg", ".ico", ".woff", ".woff2"}


def _tracked_files() -> list[str]:
    """Files of the repository: git's list, or, outside a git checkout, the tree on disk."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode()
        return sorted(name for name in out.split("\0") if name)
    except (OSError, subprocess.CalledProcessError):
        ignored = {".git", ".venv", "node_modules", "var", "__pycache__", ".mypy_cache"}
        return sorted(
            path.relative_to(ROOT).as_posix()
            for path in ROOT.rglob("*")
            if path.is_file() and not ignored & set(path.relative_to(ROOT).parts)
        )


def _text_files() -> dict[str, str]:
    texts = {}
    for name in _tracked_files():
        path = ROOT / name
        if name == THIS_FILE or path.suffix in SKIPPED_SUFFIXES or not path.is_file():
            continue
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
    return texts


def outside_pointers(text: str) -> list[str]:
    return [m.group(0) for pattern in OUTSIDE_POINTERS for m in pattern.finditer(text)]


def cited_rule_ids(text: str) -> set[str]:
    return set(RULE_ID.findall(text)) - NOT_RULE_IDS.keys()


def defined_rule_ids() -> list[str]:
    return DEFINITION.findall((ROOT / RULES).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("The rules come from `../shared/SPEC.md`.", ["../shared", "SPEC.md"]),
        ("Patterns (engineering.md, measured)", ["engineering.md"]),
        ("magic numbers (TWILIO.md)", ["TWILIO.md"]),
        ('"""Route a cohort (SPEC R7)."""', ["SPEC"]),
        ("REST representations (SPEC's contract)", ["SPEC's"]),
        ('SPEC = ROOT / "spec.json"; str(SPEC); SPEC.exists()', []),
        ("Twilio's OpenAPI spec, docs/RULES.md", []),
    ],
)
def test_pointers_outside_the_repository_are_recognised(text: str, found: list[str]) -> None:
    assert outside_pointers(text) == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("routing (R1-R7), the T3 policy, rule R2, # S9: students", {"R1", "R7", "T3", "R2", "S9"}),
        ("a new id (R99) and (Z9)", {"R99"}),
        ("T0 = datetime(2024, 1, 1); '@SUM(A0)'", set()),
        ("AC0123, 0xA1, SRC12, R2D2, r2, T3s", set()),
    ],
)
def test_rule_ids_are_recognised(text: str, found: set[str]) -> None:
    assert cited_rule_ids(text) == found


def test_no_file_points_at_a_document_outside_the_repository() -> None:
    found = [
        f"{name}:{number}: {pointer}"
        for name, text in _text_files().items()
        for number, line in enumerate(text.splitlines(), start=1)
        for pointer in outside_pointers(line)
    ]
    assert found == []


def test_every_rule_id_a_file_cites_is_defined_in_docs_rules() -> None:
    defined = set(defined_rule_ids())
    undefined = [
        f"{name}:{number}: {rule}"
        for name, text in _text_files().items()
        if name != RULES
        for number, line in enumerate(text.splitlines(), start=1)
        for rule in sorted(cited_rule_ids(line) - defined)
    ]
    assert undefined == []


def test_docs_rules_defines_each_id_once_and_only_ids_cited_in_its_own_text() -> None:
    defined = defined_rule_ids()
    assert len(defined) == len(set(defined))
    # Its introduction cites examples (R2, C1, ...): those must be rules it defines too.
    assert cited_rule_ids((ROOT / RULES).read_text(encoding="utf-8")) <= set(defined)
