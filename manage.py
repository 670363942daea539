#!/usr/bin/env python
"""Django's command-line utility."""

import os
import sys
from pathlib import Path


def embedded_database_directory() -> None:
    """The embedded default keeps its SQLite file in var/. Loading the settings creates no
    directory, so the command line makes this one, only while no DATABASE_URL is set."""
    if not os.environ.get("DATABASE_URL"):
        (Path(__file__).resolve().parent / "var").mkdir(exist_ok=True)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    embedded_database_directory()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
