"""The Django admin stores typed phone numbers in E.164 and refuses garbage with a form error
(before, a typed "(202) 555-0143" hit the database's E.164 check: a 500)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from people.models import PersonPhone, PhoneType
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(superuser: Any) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


def _form(person_id: int, type_id: int, number: str) -> dict[str, Any]:
    return {
        "person": person_id,
        "number": number,
        "phone_type": type_id,
        "verified_at_0": "",
        "verified_at_1": "",
        "verified_by": "",
        "src_system_id": "",
        "phone_type_src_system_id": "",
    }


def test_a_phone_typed_nationally_in_the_admin_is_stored_in_e164(
    admin_client_: Client, cell: PhoneType
) -> None:
    person = factories.student()
    response = admin_client_.post(
        "/admin/people/personphone/add/", _form(person.pk, cell.pk, "(202) 555-0143")
    )
    assert response.status_code == 302
    assert person.phones.get().number == "+12025550143"


def test_a_garbage_phone_in_the_admin_is_a_form_error_not_a_500(
    admin_client_: Client, cell: PhoneType
) -> None:
    person = factories.student()
    response = admin_client_.post(
        "/admin/people/personphone/add/", _form(person.pk, cell.pk, "call me maybe")
    )
    assert response.status_code == 200
    assert "is not a phone number" in response.content.decode()
    assert not PersonPhone.objects.exists()


def test_the_admin_cannot_change_a_phones_sms_status(
    admin_client_: Client, cell: PhoneType
) -> None:
    phone = factories.PhoneFactory(person=factories.student(), phone_type=cell)
    form = _form(phone.person_id, cell.pk, phone.number)
    form["sms_status"] = "disabled"
    response = admin_client_.post(f"/admin/people/personphone/{phone.pk}/change/", form)
    assert response.status_code == 302
    phone.refresh_from_db()
    assert phone.sms_status == "default"


def test_the_admin_pages_of_people_and_phones_open(admin_client_: Client, cell: PhoneType) -> None:
    phone = factories.PhoneFactory(person=factories.student(), phone_type=cell)
    for url in (
        "/admin/people/person/",
        f"/admin/people/person/{phone.person_id}/change/",
        "/admin/people/personphone/?deleted__exact=0",
        "/admin/people/phonestatuschange/",
    ):
        assert admin_client_.get(url).status_code == 200, url
