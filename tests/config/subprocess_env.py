"""Run Django in a fresh interpreter with exactly the environment a test gives it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[2]


def clean_env(**variables: str) -> dict[str, str]:
    """Only PATH and HOME from the outside: no DATABASE_URL, REDIS_URL or TWILIO_* leaks in."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(variables)
    return env


def run(args: list[str], **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=clean_env(**variables),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def settings_of(names: list[str], **variables: str) -> dict[str, Any]:
    """Import config.settings under `variables` and return the named values (JSON-able)."""
    code = (
        "import json, os, sys\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'\n"
        "import django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        f"names = {names!r}\n"
        "print(json.dumps({n: getattr(settings, n, None) for n in names}, default=str))\n"
    )
    result = run(["-c", code], **variables)
    assert result.returncode == 0, result.stderr
    values: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return values
