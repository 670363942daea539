"""How long recording and queuing a cohort takes (the work of one `POST /api/v1/messages/bulk/`),
for cohorts of 1,000, 10,000 and 100,000 students, in process on PostgreSQL with Redis as the
broker (the tasks are published, no worker takes them; the Redis database is emptied after).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_routing_bench \\
        .venv/bin/python bench/send/cohort_request.py --redis-db 14

`--rates 0,1,0,1` runs each size at those paces in turn (sender_segments_per_second; 0: none):
with pacing the texts beyond the first second wait for the pacer and are not published.

Uses the routing benchmark's database and cohort (bench/routing/generate.py: 100,000 students,
250,396 phones); generates it when missing. Prints a Markdown row per size.
"""

from __future__ import annotations

import argparse
import subprocess
import time

import cohortbench


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument(
        "--rates",
        default="0",
        help="sender_segments_per_second values, comma-separated; each size is run once at each, "
        "alternating (0: no pacing)",
    )
    args = parser.parse_args()
    cohortbench.django_start(args.redis_db)
    from django.db import connection

    from messaging import services
    from messaging.models import Message
    from sms_admin import services as sms_admin_services

    sizes = [int(s) for s in args.sizes.split(",")]
    students = cohortbench.students(max(sizes))
    # The sender holds a pool number, or every text would go by email (NO_SENDER_NUMBER).
    sender = cohortbench.advisor("BENCH-ADVISOR", "+12015550199")
    ids = list(students.order_by("pk").values_list("pk", flat=True)[: max(sizes)])

    queries = cohortbench.QueryCounter()

    print("| cohort | pace | recorded and queued in | per recipient | queries | tasks published |")
    print("|---|---|---|---|---|---|")
    runs = [(size, int(rate)) for size in sizes for rate in args.rates.split(",")]
    for size, rate in runs:
        # Pacing off by default: the bench measures recording and queuing, not the pace.
        sms_admin_services.configuration_update(actor=None, sender_segments_per_second=rate)
        Message.objects.all().delete()
        cohortbench.redis_flush(args.redis_db)
        queries.count = 0
        with connection.execute_wrapper(queries):
            started = time.perf_counter()
            result = services.message_send_bulk(
                sender=sender,
                recipient_ids=ids[:size],
                body="Registration opens Monday: book a time with your advisor.",
            )
            took = time.perf_counter() - started
        published = subprocess.run(
            ["redis-cli", "-n", str(args.redis_db), "llen", "celery"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(
            f"| {size:,} | {rate} | {took:.2f} s | {took / size * 1e6:.0f} µs "
            f"| {queries.count} | {published} |",
            flush=True,
        )
        assert len(result.message_ids) == size
        print(f"  channels and reasons: {dict(sorted(result.counts.items()))}", flush=True)
    Message.objects.all().delete()
    cohortbench.redis_flush(args.redis_db)


if __name__ == "__main__":
    main()
