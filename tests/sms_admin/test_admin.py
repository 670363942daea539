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


def test_editing_an_error_code_policy_in_the_admin_is_recorded_in_the_history(
    admin_client_: Client, superuser: Any
) -> None:
    from sms_admin.models import ConfigurationChange, ErrorCodePolicy

    policy = ErrorCodePolicy.objects.get(code=30003)

    response = admin_client_.post(
        f"/admin/sms_admin/errorcodepolicy/{policy.pk}/change/",
        {
            "code": 30003,
            "meaning": policy.meaning,
            "action": "disable_phone",
            "failure_reason": policy.failure_reason,
        },
    )

    assert response.status_code == 302
    change = ConfigurationChange.objects.get(field="error_code_policy 30003")
    assert change.old_value.startswith("retry_then_email")
    assert change.new_value.startswith("disable_phone")
    assert change.changed_by == superuser


def test_adding_a_pool_number_is_recorded_in_the_history(
    admin_client_: Client, superuser: Any
) -> None:
    from sms_admin.models import ConfigurationChange

    admin_client_.post("/admin/sms_admin/sendernumber/add/", {"number": "(201) 555-0188"})

    change = ConfigurationChange.objects.get(field="sender_number")
    assert (change.old_value, change.new_value, change.changed_by) == (
        "",
        "+12015550188",
        superuser,
    )


def test_a_held_number_cannot_be_renumbered_and_the_month_counter_cannot_be_edited(
    admin_client_: Client,
) -> None:
    from sms_admin.models import MonthlyUsage

    sender = SenderNumber.objects.create(number="+12015550189")
    usage = MonthlyUsage.objects.create(year=2026, month=11, sent=3)

    admin_client_.post(
        f"/admin/sms_admin/sendernumber/{sender.pk}/change/", {"number": "+12015550190"}
    )
    response = admin_client_.post(
        f"/admin/sms_admin/monthlyusage/{usage.pk}/change/", {"year": 2026, "month": 11, "sent": 0}
    )

    sender.refresh_from_db()
    usage.refresh_from_db()
    assert sender.number == "+12015550189"
    assert response.status_code == 403
    assert usage.sent == 3
