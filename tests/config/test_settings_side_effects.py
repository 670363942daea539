"""Loading the settings writes nothing: no directory appears in the checkout (it used to create
var/static), so they load from a read-only tree. manage.py makes var/ for the embedded SQLite
database when it is the one in use."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.config.subprocess_env import BASE_DIR, clean_env


def tree(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


@pytest.mark.parametrize("debug", ["true", "false"])
def test_loading_the_settings_creates_no_directory(tmp_path: Path, debug: str) -> None:
    """The real settings module, in an otherwise empty tree (its BASE_DIR)."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "__init__.py").touch()
    shutil.copy(BASE_DIR / "config" / "settings.py", tmp_path / "config" / "settings.py")
    before = tree(tmp_path)

    result = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.STATIC_ROOT)"],
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(tmp_path), PYTHONDONTWRITEBYTECODE="1", DJANGO_DEBUG=debug),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "var" / "static")
    assert tree(tmp_path) == before


def test_manage_py_makes_var_for_the_embedded_database_in_a_fresh_checkout(
    tmp_path: Path,
) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(
        BASE_DIR,
        checkout,
        ignore=shutil.ignore_patterns(".git", ".venv", "node_modules", "var", "__pycache__"),
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=checkout,
        env=clean_env(PATH=os.environ["PATH"]),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (checkout / "var").iterdir()) == ["db.sqlite3"]
