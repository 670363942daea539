"""How fast due scheduled texts are released (`messages_release_all_due`, the beat job's work):
10,000 texts scheduled by one cohort request, due, released in batches of 500, each decided now
(routed, given the sender's number and a unit of the month), queued and published to Redis, on
PostgreSQL, in process, against a same-run reference: one plain SQL UPDATE moving the same rows
from `scheduled` to `queued` (what a release must at least write; it decides and publishes
nothing).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kbench_send \\
        .venv/bin/python bench/send/release.py --redis-db 5

Uses the routing benchmark's generator (bench/routing/generate.py) on the database it is given,
which it fills when it holds fewer students than the cohort (it empties the people tables
first). Each round records the cohort again (`send_at` two minutes ahead), moves its `send_at`
into the past with one UPDATE (the clock is not mocked), times the reference UPDATE, puts the
rows back to `scheduled`, then times the release. The tasks published go to the given Redis
database, emptied after each round.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from datetime import timedelta
from typing import Any

import cohortbench

BODY = "Hi {first_name}, registration opens Monday: book a time with {staff_first_name}."


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cohortbench.django_start(args.redis_db)
    from django.db import connection
    from django.utils import timezone

    from messaging import services
    from messaging.models import Message, Status

    students = cohortbench.students(args.texts)
    pacing = _pacing_off()
    sender = cohortbench.advisor("BENCH-RELEASE", "+12015550197")
    ids = list(students.order_by("pk").values_list("pk", flat=True)[: args.texts])

    queries = cohortbench.QueryCounter()

    def flush() -> None:
        cohortbench.redis_flush(args.redis_db)

    def sql(statement: str, params: list[Any]) -> int:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return int(cursor.rowcount)

    print(
        f"PostgreSQL {connection.pg_version}, load average {os.getloadavg()[0]:.1f} before on "
        f"{os.cpu_count()} cores; {args.texts:,} texts from one sender, {pacing}"
    )
    rows: list[tuple[float, float, int, int]] = []
    for _ in range(args.rounds):
        Message.objects.all().delete()
        flush()
        services.message_send_bulk(
            sender=sender,
            recipient_ids=ids,
            body=BODY,
            send_at=timezone.now() + timedelta(minutes=2),
        )
        past = timezone.now() - timedelta(minutes=1)
        sql("UPDATE messaging_message SET send_at = %s WHERE status = %s", [past, Status.SCHEDULED])
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE messaging_message")

        started = time.perf_counter()
        moved = sql(
            "UPDATE messaging_message SET status = %s, updated_at = %s "
            "WHERE status = %s AND send_at <= %s",
            [Status.QUEUED, timezone.now(), Status.SCHEDULED, timezone.now()],
        )
        reference = time.perf_counter() - started
        assert moved == args.texts, moved
        sql(
            "UPDATE messaging_message SET status = %s WHERE status = %s AND send_at IS NOT NULL",
            [Status.SCHEDULED, Status.QUEUED],
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE messaging_message")

        queries.count = 0
        with connection.execute_wrapper(queries):
            started = time.perf_counter()
            released = services.messages_release_all_due()
            took = time.perf_counter() - started
        assert released == args.texts, released
        published = subprocess.run(
            ["redis-cli", "-n", str(args.redis_db), "llen", "celery"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        rows.append((took, reference, queries.count, int(published or 0)))
        print(
            f"  round: release {took:.2f} s ({args.texts / took:,.0f}/s), reference "
            f"{reference:.3f} s, {queries.count} queries, {published} tasks published",
            flush=True,
        )
    Message.objects.all().delete()
    flush()

    took = sorted(r[0] for r in rows)
    ratios = sorted(r[0] / r[1] for r in rows)
    batches = -(-args.texts // services.RELEASE_BATCH_SIZE)
    print(
        "| texts | release best | release median | texts/s (median) | reference UPDATE, median "
        "| median time ratio | queries | per batch of 500 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.texts:,} | {took[0]:.2f} s | {statistics.median(took):.2f} s "
        f"| {args.texts / statistics.median(took):,.0f}/s "
        f"| {statistics.median(r[1] for r in rows) * 1e3:.0f} ms "
        f"| {statistics.median(ratios):.0f} | {rows[0][2]} | {rows[0][2] / batches:.2f} |"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


def _pacing_off() -> str:
    """Pacing per sender number, where the configuration has it, is switched off: the benchmark
    measures the release, not a chosen sending rate."""
    from sms_admin.models import SmsConfiguration

    fields = {f.name for f in SmsConfiguration._meta.get_fields()}
    if "sender_segments_per_second" not in fields:
        return "no pacing in this version"
    SmsConfiguration.objects.filter(pk=1).update(sender_segments_per_second=0)
    return "pacing off (sender_segments_per_second = 0)"


if __name__ == "__main__":
    main()
