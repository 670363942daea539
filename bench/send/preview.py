"""How long `POST /api/v1/messages/bulk/preview/` takes for a cohort of 10,000 students (and
1,000), through DRF's test client in process (token authentication, the whole middleware stack,
`DEBUG` off) on PostgreSQL, and how many queries it makes, against a same-run reference: one plain
SQL read of the same students with their phones (the least a preview must read).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kbench_send \\
        .venv/bin/python bench/send/preview.py --redis-db 5

Uses the routing benchmark's generator (bench/routing/generate.py: students with 1-4 phones of
mixed types and statuses, loaded with COPY) on the database it is given, which it fills when it
holds fewer students than the largest cohort (it empties the people tables first). Rounds
alternate the preview and the reference; prints best and median of each and a Markdown row per
cohort size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import cohortbench

BODY = "Hi {first_name}, registration opens Monday: book a time with {staff_first_name}."


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    cohortbench.django_start(args.redis_db)
    from django.db import connection
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from tests import factories

    sizes = [int(s) for s in args.sizes.split(",")]
    students = cohortbench.students(max(sizes))
    user = factories.UserFactory(username="bench-preview")
    cohortbench.advisor("BENCH-PREVIEW", "+12015550198", user=user)
    token, _ = Token.objects.get_or_create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    ids = list(students.order_by("pk").values_list("pk", flat=True)[: max(sizes)])

    queries = cohortbench.QueryCounter()

    def preview(size: int) -> tuple[float, int, dict[str, Any]]:
        queries.count = 0
        with connection.execute_wrapper(queries):
            started = time.perf_counter()
            response = api.post(
                "/api/v1/messages/bulk/preview/",
                {"recipients": ids[:size], "body": BODY},
                format="json",
            )
            took = time.perf_counter() - started
        assert response.status_code == 200, response.content
        return took, queries.count, response.json()

    def reference(size: int) -> float:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.id, p.first_name, p.last_name, p.email, f.number, f.sms_status, "
                "f.deleted, f.phone_type_id FROM people_person p "
                "LEFT JOIN people_personphone f ON f.person_id = p.id "
                "WHERE p.id = ANY(%s) ORDER BY p.id, f.id",
                [ids[:size]],
            )
            cursor.fetchall()
        return time.perf_counter() - started

    print(
        f"PostgreSQL {connection.pg_version}, load average {os.getloadavg()[0]:.1f} before "
        f"on {os.cpu_count()} cores; {args.rounds} rounds after 2 warm-up requests per size"
    )
    print(
        "| cohort | preview best | preview median | queries | reference: one SQL read of the "
        "people and phones, median | median ratio |"
    )
    print("|---|---|---|---|---|---|")
    for size in sizes:
        for _ in range(2):
            preview(size)
            reference(size)
        took: list[float] = []
        ref: list[float] = []
        counts: set[int] = set()
        answer: dict[str, Any] = {}
        for _ in range(args.rounds):
            seconds, made, answer = preview(size)
            took.append(seconds)
            counts.add(made)
            ref.append(reference(size))
        median, ref_median = statistics.median(took), statistics.median(ref)
        print(
            f"| {size:,} | {min(took) * 1e3:.0f} ms | {median * 1e3:.0f} ms "
            f"| {', '.join(str(c) for c in sorted(counts))} | {ref_median * 1e3:.0f} ms "
            f"| {median / ref_median:.1f} |",
            flush=True,
        )
        print(f"  channels {answer['channels']}, reasons {answer['reasons']}", flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    cohortbench.redis_flush(args.redis_db)


if __name__ == "__main__":
    main()
