"""Every environment variable the settings read is named in `.env.example` and in the README,
so an operator can find each one (DJANGO_SECURE_COOKIES was in neither)."""

from __future__ import annotations

import re

from tests.config.subprocess_env import BASE_DIR

READS = re.compile(r"""(?:os\.environ(?:\.get\(|\[)|\benv_\w+\()\s*["']([A-Z][A-Z0-9_]*)["']""")


def settings_variables() -> set[str]:
    return set(READS.findall((BASE_DIR / "config" / "settings.py").read_text()))


def test_the_settings_read_the_variables_this_test_expects() -> None:
    """The pattern finds each way settings.py reads a variable (else the checks below are empty)."""
    found = settings_variables()
    assert {"DJANGO_DEBUG", "DATABASE_URL", "DJANGO_SECURE_COOKIES", "SANDBOX_PORT"} <= found
    assert len(found) > 30


def test_every_variable_the_settings_read_is_in_env_example() -> None:
    example = (BASE_DIR / ".env.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))

    assert sorted(settings_variables() - named) == []


def test_every_variable_the_settings_read_is_in_the_readme() -> None:
    readme = (BASE_DIR / "README.md").read_text()
    named = set(re.findall(r"`([A-Z][A-Z0-9_]*)(?:=[^`]*)?`", readme))

    assert sorted(settings_variables() - named) == []


def test_env_example_names_no_variable_the_settings_do_not_read() -> None:
    example = (BASE_DIR / ".env.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))

    assert sorted(named - settings_variables()) == []
