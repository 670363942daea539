"""The Django admin stores pool numbers in E.164, once; configuration history is read-only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from sms_admin.models import SenderNumber
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(superuser: Any) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


def test_a_pool_number_typed_in_the_admin_is_stored_in_e164(admin_client_: Client) -> None:
    response = admin_client_.post("/admin/sms_admin/sendernumber/add/", {"number": "201-555-0100"})
    assert response.status_code == 302
    assert list(SenderNumber.objects.values_list("number", flat=True)) == ["+12015550100"]


@pytest.mark.parametrize(
    ("typed", "message"), [("garbage", "is not a phone number"), ("+1 201 555 0100", "already")]
)
def test_a_bad_or_duplicate_pool_number_is_a_form_error(
    admin_client_: Client, typed: str, message: str
) -> None:
    factories.SenderNumberFactory(number="+12015550100")
    response = admin_client_.post("/admin/sms_admin/sendernumber/add/", {"number": typed})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert SenderNumber.objects.count() == 1


def test_configuration_history_cannot_be_added_or_edited_in_the_admin(
    admin_client_: Client, config: Any
) -> None:
    assert admin_client_.get("/admin/sms_admin/configurationchange/").status_code == 200
    assert admin_client_.get("/admin/sms_admin/configurationchange/add/").status_code == 403
