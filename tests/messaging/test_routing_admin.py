"""The Person admin page shows staff where a text goes and why (R6)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from people.models import SmsStatus
from sms_admin.models import SmsConfiguration
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(admin_user: Any) -> Client:
    admin_user.is_superuser = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    return client


def test_the_person_change_page_shows_the_route_and_its_explanation(
    config: SmsConfiguration, admin_client_logged_in: Client
) -> None:
    person = factories.student(email="kim@example.edu")
    factories.PhoneFactory(person=person, number="+12025550111", sms_status=SmsStatus.ENABLED)
    factories.PhoneFactory(person=person, number="+12025550112", sms_status=SmsStatus.DISABLED)

    response = admin_client_logged_in.get(f"/admin/people/person/{person.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Where a text goes now (SMS routing)" in page
    assert "<strong>SMS</strong> to <strong>+12025550111</strong></p>" in page
    assert "<li>+12025550112: SMS Disabled</li>" in page


def test_the_person_change_page_shows_an_email_route(
    config: SmsConfiguration, admin_client_logged_in: Client
) -> None:
    person = factories.student(email="kim@example.edu")

    page = admin_client_logged_in.get(f"/admin/people/person/{person.pk}/change/").content.decode()

    assert "<strong>EMAIL</strong> to <strong>kim@example.edu</strong></p>" in page


def test_the_person_add_page_still_works_without_a_route(
    config: SmsConfiguration, admin_client_logged_in: Client
) -> None:
    response = admin_client_logged_in.get("/admin/people/person/add/")

    assert response.status_code == 200
    assert "SMS routing" not in response.content.decode()
