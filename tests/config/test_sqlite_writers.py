"""The embedded default (SQLite) lets a write wait for another one instead of failing: an
advisor's text sent while a cohort is being recorded waits for it, it does not get a 500."""

from __future__ import annotations

from pathlib import Path

from tests.config.subprocess_env import run

SCRIPT = """
import os, threading, time
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
import django
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
from people.models import Role

call_command("migrate", verbosity=0)
writing = threading.Event()
outcome = {}

def long_writer():
    with transaction.atomic():  # a cohort being recorded
        Role.objects.create(code="cohort", name="Cohort", kind="staff")
        writing.set()
        time.sleep(1.5)
    connection.close()

def reader_then_writer():
    writing.wait()
    try:
        with transaction.atomic():  # a single send: reads, then writes
            Role.objects.count()
            Role.objects.create(code="single", name="Single", kind="staff")
        outcome["single"] = "written"
    except Exception as exc:
        outcome["single"] = f"{type(exc).__name__}: {exc}"
    connection.close()

threads = [threading.Thread(target=long_writer), threading.Thread(target=reader_then_writer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(outcome["single"], sorted(Role.objects.values_list("code", flat=True)))
"""


def test_a_write_waits_for_another_writer_on_the_embedded_sqlite(tmp_path: Path) -> None:
    result = run(["-c", SCRIPT], DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "written ['cohort', 'single']", result.stdout
