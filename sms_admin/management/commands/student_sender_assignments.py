"""`manage.py student_sender_assignments [--release]`: sender numbers held by students (S9).

Students may not hold a system number (not allowed since 2021-10-01). The list shows each such
assignment; `--release` un-assigns them as the Phone Number Usage grid does (S8).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser

from sms_admin import pool


class Command(BaseCommand):
    help = (
        "List (and with --release, un-assign) sender numbers held by students, which students "
        "may not hold."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--release", action="store_true", help="un-assign every one of them")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = list(pool.student_held_assignments())
        if not rows:
            self.stdout.write("No sender number is held by a student.")
            return
        for row in rows:
            self.stdout.write(
                f"{row.pk}\t{row.sender_number.number}\t{row.person.full_name} "
                f"(person {row.person_id})\tassigned {row.assigned_at:%Y-%m-%d}"
            )
        if options["release"]:
            released = 0
            for row in rows:
                try:
                    pool.sender_assignment_release(assignment_id=row.pk)
                except ValidationError:
                    continue  # released meanwhile (the grid, another run)
                released += 1
            self.stdout.write(f"Released {released} assignment(s).")
        else:
            self.stdout.write(f"{len(rows)} assignment(s); run with --release to un-assign.")
