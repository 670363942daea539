"""No query string makes the analytics pages, their CSVs, the reports or
`GET analytics/messages/` answer 500: odd text, NUL characters, huge numbers and unknown
parameters give the page (200) or the error next to the field or in JSON (400)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

values = (
    st.text(max_size=25)
    | st.sampled_from(["2026-02", "2026-02-30", "9999-12", "0000-00", "-1", "1e9", "\x00", " "])
    | st.integers(min_value=-(2**64), max_value=2**64).map(str)
    | st.dates().map(str)
)
queries = st.dictionaries(
    st.sampled_from(["month", "start", "end", "kind", "idle_days", "page", "other"]),
    values.filter(lambda v: "\x00" not in v) | st.just("20\x0026-01"),
    max_size=4,
)
PAGES = [
    "/analytics/",
    "/analytics/csv/",
    "/analytics/opt-outs/",
    "/analytics/opt-outs/csv/",
    "/analytics/reclaim/",
]


@FUZZ
@given(query=queries)
def test_no_query_string_makes_a_page_fail(admin_user: Any, query: dict[str, str]) -> None:
    client = Client()
    client.force_login(admin_user)
    for path in PAGES:
        response = client.get(path, query)
        assert response.status_code in (200, 400), (path, query, response.status_code)


@FUZZ
@given(query=queries)
def test_no_query_string_makes_the_api_fail(admin_api: APIClient, query: dict[str, str]) -> None:
    response = admin_api.get("/api/v1/analytics/messages/", query)
    assert response.status_code in (200, 400), (query, response.status_code)
    if response.status_code == 400:
        # Only parameters the query sent are named: a bad month, or a name the API does not take.
        assert set(response.json()) <= set(query), (query, response.json())
    unknown = set(query) - {"month"}
    if unknown:
        assert response.status_code == 400
        assert unknown <= set(response.json())
