"""Load the inbox benchmark's data set into its own PostgreSQL database: N conversations of M
messages each (default 10,000 x 100 = 1,000,000 messages), shared by 20 staff members (500
conversations each), plus one staff member with 10 conversations (the small inbox of the
query-count comparison). Rows are made by PostgreSQL itself (INSERT ... SELECT over
generate_series), so nothing travels from Python.

Each conversation alternates texts and replies; half end with a reply (needs reply), one in ten
has its last replies unread. Run by run.py when the data set is missing, or by hand:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_inbox_bench \\
        .venv/bin/python bench/inbox/generate.py --conversations 10000 --per-conversation 100
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.routing.benchdb import django_setup

STAFF = 20
SMALL_INBOX = 10


def generate(conversations: int, per_conversation: int) -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from people.models import Person

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE messaging_message, messaging_unanswereddigest, people_person_roles, "
            "people_personphone, people_phonestatuschange, sms_admin_senderassignment, "
            "people_person RESTART IDENTITY CASCADE"
        )
    User = get_user_model()
    User.objects.filter(username__startswith="bench-").delete()
    with transaction.atomic():
        staff = []
        for i in range(STAFF + 1):
            user = User.objects.create_user(username=f"bench-staff-{i}", password=None)
            staff.append(
                Person.objects.create(first_name="Staff", last_name=f"Member {i}", user=user)
            )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO people_person (first_name, last_name, email, created_at) "
                "SELECT 'Student', 'Number ' || n, 'student' || n || '@example.edu', now() "
                "FROM generate_series(1, %s) AS n",
                [conversations + SMALL_INBOX],
            )
            # conversation c: its student, its staff member (the last SMALL_INBOX go to the
            # small inbox's staff member).
            cursor.execute(
                "CREATE TEMP TABLE bench_conv ON COMMIT DROP AS "
                "SELECT (row_number() OVER (ORDER BY id)) - 1 AS c, id AS student_id "
                "FROM people_person WHERE first_name = 'Student'"
            )
            staff_ids = [p.pk for p in staff]
            cursor.execute(
                "ALTER TABLE bench_conv ADD COLUMN staff_id bigint; "
                "UPDATE bench_conv SET staff_id = CASE WHEN c >= %s THEN %s "
                "ELSE (%s::bigint[])[1 + (c %% %s)] END",
                [conversations, staff_ids[STAFF], staff_ids[:STAFF], STAFF],
            )
        people_done = time.perf_counter()
        with connection.cursor() as cursor:
            # Message k of conversation c: a text when (c + k) is even, else a reply; the
            # conversation's last activity is c minutes ago, a message an hour apart.
            cursor.execute(
                """
                INSERT INTO messaging_message (
                    direction, channel, destination, from_number, body, status, failure_reason,
                    segments, encoding, token, keyword, is_reply, attempts, created_at,
                    updated_at, sender_id, recipient_id, attributed_to_id, attribution, read_at
                )
                SELECT
                    CASE WHEN inbound THEN 'inbound' ELSE 'outbound' END,
                    'sms', '+12025550100', '+12015550100',
                    CASE WHEN inbound THEN 'Reply ' ELSE 'Text ' END || k || ' in conversation '
                        || c || ': a sentence or two, as students and advisors write them.',
                    CASE WHEN inbound THEN 'received' ELSE 'delivered' END,
                    '', 1, 'GSM-7', gen_random_uuid(), '', inbound, 0, at, at,
                    CASE WHEN inbound THEN student_id ELSE staff_id END,
                    CASE WHEN inbound THEN staff_id ELSE student_id END,
                    CASE WHEN inbound THEN staff_id END,
                    CASE WHEN inbound THEN 'reply' ELSE '' END,
                    CASE WHEN inbound AND NOT (c %% 10 = 0 AND k >= %s - 3) THEN at END
                FROM (
                    SELECT c, student_id, staff_id, k, (c + k) %% 2 = 1 AS inbound,
                           now() - make_interval(mins => c::int)
                                 - make_interval(hours => (%s - 1 - k)) AS at
                    FROM bench_conv CROSS JOIN generate_series(0, %s - 1) AS k
                ) AS m
                """,
                [per_conversation, per_conversation, per_conversation],
            )
    messages_done = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE messaging_message")
        cursor.execute("ANALYZE people_person")
    return {
        "people_s": people_done - started,
        "messages_s": messages_done - people_done,
        "analyze_s": time.perf_counter() - messages_done,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--per-conversation", type=int, default=100)
    args = parser.parse_args()
    django_setup()
    timings = generate(args.conversations, args.per_conversation)
    print(" ".join(f"{k}={v:.1f}" for k, v in timings.items()))


if __name__ == "__main__":
    main()
