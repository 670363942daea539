"""Racing requests for the same unique value, on PostgreSQL with real threads: one wins, the others
get a 400 with a message (the database's uniqueness error is answered, never a 500)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from people.models import Person, Role
from tests import factories
from tests.parallel import run_each_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


@pytest.fixture(autouse=True)
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("races are proven on PostgreSQL: run with DATABASE_URL=postgres://...")


def race(user: Any, send: Callable[[APIClient, int], Any]) -> list[Any]:
    """Send THREADS API requests released together, each client on its own connection."""

    def one(i: int) -> Any:
        api = APIClient()
        api.force_authenticate(user)
        return send(api, i)

    return run_each_at_once(one, THREADS)


def test_racing_creations_of_one_role_code_make_one_role_and_400s() -> None:
    admin = factories.UserFactory(username="admin", is_staff=True)
    responses = race(
        admin,
        lambda api, i: api.post(
            "/api/v1/roles/", {"code": "coach", "name": f"Coach {i}", "kind": "staff"}
        ),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * (THREADS - 1)
    assert all(r.json() for r in responses if r.status_code == 400)
    assert Role.objects.filter(code="coach").count() == 1


def test_racing_creations_of_one_person_by_source_id_make_one_person() -> None:
    admin = factories.UserFactory(username="admin", is_staff=True)
    responses = race(
        admin,
        lambda api, i: api.post(
            "/api/v1/people/",
            {"first_name": "Sam", "last_name": f"Twin {i}", "src_system_id": "SIS-RACE"},
            format="json",
        ),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * (THREADS - 1)
    assert Person.objects.filter(src_system_id="SIS-RACE").count() == 1


def test_racing_links_of_one_new_username_link_it_to_one_person() -> None:
    admin = factories.UserFactory(username="admin", is_staff=True)
    responses = race(
        admin,
        lambda api, i: api.post(
            "/api/v1/people/",
            {"first_name": "Alex", "last_name": f"Clone {i}", "username": "alex"},
            format="json",
        ),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * (THREADS - 1)
    assert Person.objects.filter(user__username="alex").count() == 1
    assert Person.objects.count() == 1


def test_racing_adds_of_one_number_to_one_person_make_one_phone() -> None:
    admin = factories.UserFactory(username="admin", is_staff=True)
    factories.PhoneTypeFactory(code="cell")
    person = factories.student()
    responses = race(
        admin,
        lambda api, i: api.post(
            f"/api/v1/people/{person.pk}/phones/",
            {"number": "+12025550143", "phone_type": "cell"},
            format="json",
        ),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * (THREADS - 1)
    assert person.phones.count() == 1
