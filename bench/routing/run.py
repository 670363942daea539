"""Benchmark: route a whole cohort of students (rule R7) against a plain SQL fetch of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_routing_bench \
        .venv/bin/python bench/routing/run.py --students 100000

Generates the cohort on first use (bench/routing/generate.py, COPY), then in one run measures:
the plain fetch through the database cursor (the reference), routing with
messaging.selectors.routes_for_people (recipients per second and the ratio to the reference),
the queries it issued, routing one person at a time on a sample (for contrast), and the peak
memory of routing 10,000 and 100,000 people, each measured
in a fresh process (tracemalloc peak, and the process's maximum resident set size).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import django_setup

REFERENCE_SQL = """
SELECT p.id, p.email,
       EXISTS (SELECT 1 FROM people_person_roles h JOIN people_role r ON r.id = h.role_id
               WHERE h.person_id = p.id AND r.kind = 'staff') AS is_staff,
       ph.id, ph.number, t.code, ph.sms_status, ph.deleted, ph.verified_at, ph.created_at,
       ph.phone_type_src_system_id
FROM people_person p
JOIN people_person_roles sr ON sr.person_id = p.id
JOIN people_role s ON s.id = sr.role_id AND s.code = 'student'
LEFT JOIN people_personphone ph ON ph.person_id = p.id
LEFT JOIN people_phonetype t ON t.id = ph.phone_type_id
WHERE p.id <= %s
ORDER BY p.id, ph.id
"""


def cohort(size: int) -> Any:
    """The students to route: a role filter, as a bulk send would select them."""
    from people.models import Person

    return Person.objects.filter(roles__code="student", pk__lte=size).order_by("pk")


def reference_fetch(size: int, batch_size: int) -> int:
    """Fetch the people and phones routing reads, with one plain SQL query; returns rows."""
    from django.db import connection

    rows = 0
    with connection.cursor() as cursor:
        cursor.execute(REFERENCE_SQL, [size])
        while chunk := cursor.fetchmany(batch_size):
            rows += len(chunk)
    return rows


def route_cohort(size: int, batch_size: int) -> Counter[str]:
    from messaging import selectors

    channels: Counter[str] = Counter()
    for _, route in selectors.routes_for_people(cohort(size), batch_size=batch_size):
        channels[route.channel] += 1
    return channels


def route_one_by_one(size: int) -> int:
    """The naive way, for contrast: route_for_person for each person (2 queries each)."""
    from messaging import selectors

    config = selectors.config_facts()
    count = 0
    for person in cohort(size):
        selectors.route_for_person(person, config=config)
        count += 1
    return count


def timed(function: Any, *args: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def memory_probe(size: int, batch_size: int) -> dict[str, Any]:
    """Route `size` people under tracemalloc (run in a fresh process)."""
    from django.db import connection

    connection.ensure_connection()
    tracemalloc.start()
    channels = route_cohort(size, batch_size)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "size": size,
        "routed": sum(channels.values()),
        "tracemalloc_peak_mib": round(peak / 2**20, 1),
        "max_rss_mib": round(max_rss_kib / 1024, 1),
    }


def memory_in_subprocess(size: int, batch_size: int) -> dict[str, Any]:
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--memory-probe",
            str(size),
            "--batch-size",
            str(batch_size),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory-sizes", default="10000,100000")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--memory-probe", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    django_setup()

    if args.memory_probe:
        print(json.dumps(memory_probe(args.memory_probe, args.batch_size)))
        return

    import generate
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if args.regenerate or not generate.cohort_present(args.students):
        print("generating:", generate.cohort_generate(args.students), flush=True)
    size = args.students

    reference_times, routing_times = [], []
    rows = 0
    channels: Counter[str] = Counter()
    for _ in range(args.rounds):
        seconds, rows = timed(reference_fetch, size, args.batch_size)
        reference_times.append(seconds)
        seconds, channels = timed(route_cohort, size, args.batch_size)
        routing_times.append(seconds)
    routed = sum(channels.values())

    query_counts = {}
    for n in sorted({1000, 10_000, size}):
        if n <= size:
            with CaptureQueriesContext(connection) as queries:
                route_cohort(n, args.batch_size)
            query_counts[n] = len(queries)

    sample = min(2000, size)
    one_by_one, _ = timed(route_one_by_one, sample)

    memory = [
        memory_in_subprocess(int(n), args.batch_size) for n in args.memory_sizes.split(",") if n
    ]

    reference, routing = min(reference_times), min(routing_times)
    result = {
        "students": size,
        "recipients_routed": routed,
        "reference_rows": rows,
        "channels": dict(channels),
        "batch_size": args.batch_size,
        "reference_fetch_s": {
            "best": round(reference, 3),
            "median": round(statistics.median(reference_times), 3),
        },
        "routing_s": {
            "best": round(routing, 3),
            "median": round(statistics.median(routing_times), 3),
        },
        "routing_recipients_per_s": round(routed / routing),
        "ratio_routing_to_reference": round(routing / reference, 2),
        "one_by_one_recipients_per_s": round(sample / one_by_one),
        "queries_by_cohort_size": query_counts,
        "queries_per_1000_recipients": round(query_counts[size] / size * 1000, 2),
        "memory": memory,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
