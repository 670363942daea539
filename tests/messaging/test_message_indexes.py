"""The messages table keeps one index per need: every status change of a text writes each of
them again, so a foreign key whose lookups another index serves has none of its own."""

from __future__ import annotations

import json

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="query plans: PostgreSQL (set DATABASE_URL)"
    ),
]

COVERED = ["sender_id", "recipient_id", "attributed_to_id", "replaces_id", "retry_of_id"]


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'messaging_message'"
        )
        return dict(cursor.fetchall())


def _index_used(sql: str) -> str:
    """The index the plan of `sql` reads (sequential scans discouraged, as on a large table)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = json.dumps(cursor.fetchone()[0])
    assert '"Seq Scan"' not in plan, plan
    return plan


@pytest.mark.django_db
@pytest.mark.parametrize("column", COVERED)
def test_a_foreign_key_without_its_own_index_is_still_looked_up_through_one(column: str) -> None:
    # What deleting a person or a message does to the texts that point at them (SET NULL).
    plan = _index_used(f"UPDATE messaging_message SET {column} = NULL WHERE {column} IN (1, 2)")
    assert '"Index Name"' in plan
    assert not any(
        definition.endswith(f"({column})") and "WHERE" not in definition
        for definition in _indexes().values()
    )
