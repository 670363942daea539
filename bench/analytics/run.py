"""Benchmark: the analytics page (A3) on PostgreSQL with 1,000,000 messages, against a bare
Django view in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sms_analytics_bench \\
        .venv/bin/python bench/analytics/run.py --messages 1000000

Generates the data on first use (bench/analytics/generate.py; `--regenerate` forces it), then
through Django's test client (the whole middleware stack, a logged-in administrator, DEBUG off):

- the first view after the settled months' sums are deleted (they are summed then, once);
- then in alternating rounds: the bare reference view (the same middleware, session and
  administrator check, no work: bench/analytics/urls.py), the page of the last full month (its
  per-staff table over a whole month, and a chart whose last two months are counted live), the
  page of the current month, and the month's CSV;
- the queries of one page view, and PostgreSQL's plans of the two grouped queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "routing"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.analytics.settings")

from benchdb import django_setup  # noqa: E402


def timed(client: Any, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (path, response.status_code)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=5)
    args = parser.parse_args()
    django_setup()

    import generate
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from messaging import analytics
    from messaging.models import MonthSummary

    if args.regenerate or not generate.present(args.messages):
        print("generating:", generate.generate(args.messages), flush=True)

    admin, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True}
    )
    client = Client()
    client.force_login(admin)
    current = analytics.month_current()
    full = current.shift(-1)
    paths = {
        "bare reference view": "/bench/bare/",
        f"analytics page, {full} (last full month)": f"/analytics/?month={full}",
        f"analytics page, {current} (this month)": "/analytics/",
        f"analytics CSV, {full}": f"/analytics/csv/?month={full}",
    }

    MonthSummary.objects.all().delete()
    first_view = timed(client, f"/analytics/?month={full}")
    for path in paths.values():
        for _ in range(3):
            timed(client, path)

    samples: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(args.rounds):
        for name, path in paths.items():
            samples[name].extend(timed(client, path) for _ in range(args.per_round))

    with CaptureQueriesContext(connection) as captured:
        timed(client, f"/analytics/?month={full}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM messaging_message")
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM messaging_message WHERE created_at >= %s AND created_at < %s",
            [full.start(), full.end()],
        )
        in_month = cursor.fetchone()[0]

    print(f"messages: {total:,}; in {full}: {in_month:,}; time zone {analytics.institution_zone()}")
    print(f"first view of {full} after deleting the settled months' sums: {first_view:.1f} ms")
    bare = statistics.median(samples["bare reference view"])
    print(f"{'view':<45} {'best ms':>9} {'median ms':>10} {'p90 ms':>8} {'median / bare':>14}")
    for name, values in samples.items():
        values.sort()
        median = statistics.median(values)
        p90 = values[int(len(values) * 0.9) - 1]
        print(f"{name:<45} {values[0]:>9.1f} {median:>10.1f} {p90:>8.1f} {median / bare:>14.1f}")
    print(f"queries of one page view ({full}): {len(captured)}")
    for query in captured.captured_queries:
        print(f"  {query['time']}s  {query['sql'][:110]}")

    month_query = (
        analytics.Message.objects.filter(created_at__gte=full.start(), created_at__lt=full.end())
        .annotate(staff=analytics._staff_key())
        .values("staff")
        .annotate(**analytics._figures_aggregates())
        .order_by()
    )
    print("plan of the month's per-staff query:")
    print("  " + month_query.explain(analyze=True).replace("\n", "\n  "))


if __name__ == "__main__":
    main()
