"""`manage.py import_sis_people FILE.csv`: the SIS person import (P7) from a CSV file."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from people import sis


class Command(BaseCommand):
    help = (
        "Import people and their phones from an SIS CSV export. The header row names the "
        "columns person_src_system_id, first_name, last_name, email, roles (role codes separated "
        "by spaces), phone_src_system_id, number, phone_type (a phone type code), "
        "phone_type_src_system_id; email and phone_type_src_system_id may be left out. One line "
        "per phone; a person without phones has one line with empty phone columns. People and "
        "phones are upserted by their src_system_id; the person's SIS phones missing from the "
        "file are soft-deleted; no phone's SMS status is ever set or reset. All or nothing: any "
        "bad line is reported and nothing is saved (exit code 1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file (UTF-8).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with open(options["file"], encoding="utf-8-sig", newline="") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from exc
        try:
            result = sis.sis_people_import(rows=sis.sis_csv_rows(text))
        except sis.SisImportError as exc:
            for error in exc.row_errors:
                for message in error.messages:
                    self.stderr.write(f"{error.row}: {message}")
            raise CommandError(exc.messages[0]) from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"People: {result.people_created} created, {result.people_updated} updated, "
            f"{result.people_unchanged} unchanged.\n"
            f"Phones: {result.phones_added} added, {result.phones_updated} updated, "
            f"{result.phones_deleted} soft-deleted, {result.phones_unchanged} unchanged."
        )
