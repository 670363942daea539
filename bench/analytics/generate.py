"""Generate the analytics benchmark's data: 200 staff, each with a caseload of 100 of the 20,000
students, and N messages (default 1,000,000) spread over the last 365 days, with
INSERT ... SELECT FROM generate_series (no Python per row), then VACUUM ANALYZE.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sms_analytics_bench \
        .venv/bin/python bench/analytics/generate.py --messages 1000000

Only for the benchmark's own database: it empties the people and messaging tables first.

The mix (seeded): 70 % outbound texts (85 % delivered, 5 % failed, 2 % undelivered, 8 % still
sent; 0.5 % refused with 21610), 10 % emails instead, 18 % inbound replies, 1 % STOP,
1 % texts first to a staff number. Rows are stored in time order, as the product records them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "routing"))

from benchdb import django_setup  # noqa: E402

STAFF = 200
STUDENTS = 20_000
# Each staff member texts their own caseload of students, as advisors do.
CASELOAD = STUDENTS // STAFF

PEOPLE_SQL = """
INSERT INTO people_person (id, src_system_id, first_name, last_name, email, created_at)
SELECT i, 'BENCH-' || i, CASE WHEN i <= %(staff)s THEN 'Staff' ELSE 'Student' END, i::text,
       'person' || i || '@example.edu', now()
FROM generate_series(1, %(people)s) AS i;
INSERT INTO people_person_roles (person_id, role_id)
SELECT i, CASE WHEN i <= %(staff)s THEN %(staff_role)s ELSE %(student_role)s END
FROM generate_series(1, %(people)s) AS i;
SELECT setval(pg_get_serial_sequence('people_person', 'id'), %(people)s);
"""

MESSAGES_SQL = """
INSERT INTO messaging_message (
    direction, sender_id, recipient_id, channel, destination, from_number, body, status,
    failure_reason, error_code, segments, encoding, token, keyword, is_reply, attempts,
    attributed_to_id, attribution, created_at, updated_at)
SELECT
    CASE WHEN k < 0.80 THEN 'outbound' ELSE 'inbound' END,
    CASE WHEN k < 0.80 THEN staff ELSE student END,
    CASE WHEN k < 0.80 THEN student ELSE staff END,
    CASE WHEN k < 0.70 THEN 'sms' WHEN k < 0.80 THEN 'email' ELSE 'sms' END,
    CASE WHEN k >= 0.70 AND k < 0.80 THEN 'person' || student || '@example.edu'
         ELSE '+1202555' || lpad((student %% 10000)::text, 4, '0') END,
    '+1201555' || lpad(staff::text, 4, '0'),
    'Hello from the benchmark',
    CASE WHEN k < 0.70 THEN
             CASE WHEN s < 0.85 THEN 'delivered' WHEN s < 0.90 THEN 'failed'
                  WHEN s < 0.92 THEN 'undelivered' ELSE 'sent' END
         WHEN k < 0.80 THEN 'sent' ELSE 'received' END,
    '',
    CASE WHEN k < 0.70 AND s >= 0.85 AND s < 0.855 THEN 21610 END,
    1, 'GSM-7', md5(i::text)::uuid,
    CASE WHEN k >= 0.98 AND k < 0.99 THEN 'stop' ELSE '' END,
    k >= 0.80 AND k < 0.98,
    0,
    CASE WHEN k >= 0.80 THEN staff END,
    CASE WHEN k >= 0.80 AND k < 0.98 THEN 'reply' WHEN k >= 0.80 THEN 'holder' ELSE '' END,
    at, at
FROM (
    SELECT i, k, s, staff_index + 1 AS staff,
           %(staff)s + 1 + (staff_index * %(caseload)s + floor(random() * %(caseload)s)::int)
               %% %(students)s AS student,
           at
    FROM (
        SELECT i, random() AS k, random() AS s, floor(random() * %(staff)s)::int AS staff_index,
               now() - random() * interval '365 days' AS at
        FROM generate_series(1, %(messages)s) AS i
    ) AS r
) AS g
-- Stored in time order, as messages are recorded: a month's rows sit together on disk.
ORDER BY at;
"""


def generate(messages: int) -> dict[str, float]:
    from django.db import connection, transaction

    from messaging.models import MonthSummary
    from people.models import Role, RoleKind

    started = time.perf_counter()
    with transaction.atomic():
        staff_role, _ = Role.objects.get_or_create(
            code="advisor", defaults={"name": "Advisor", "kind": RoleKind.STAFF}
        )
        student_role, _ = Role.objects.get_or_create(
            code="student", defaults={"name": "Student", "kind": RoleKind.STUDENT}
        )
        params = {
            "staff": STAFF,
            "students": STUDENTS,
            "caseload": CASELOAD,
            "people": STAFF + STUDENTS,
            "messages": messages,
            "staff_role": staff_role.pk,
            "student_role": student_role.pk,
        }
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE messaging_message, people_personphone, people_person_roles, "
                "people_person RESTART IDENTITY CASCADE"
            )
            cursor.execute(PEOPLE_SQL, params)
            MonthSummary.objects.all().delete()
            cursor.execute("SELECT setseed(0.42)")
            cursor.execute(MESSAGES_SQL, params)
    loaded = time.perf_counter() - started
    connection.ensure_connection()
    connection.connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE messaging_message")
        cursor.execute("VACUUM ANALYZE people_person")
        cursor.execute("SELECT count(*) FROM messaging_message")
        count = cursor.fetchone()[0]
    return {
        "messages": count,
        "load_seconds": round(loaded, 1),
        "with_vacuum_seconds": round(time.perf_counter() - started, 1),
    }


def present(messages: int) -> bool:
    from messaging.models import Message

    return Message.objects.count() == messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.analytics.settings")
    django_setup()
    print(generate(args.messages))


if __name__ == "__main__":
    main()
