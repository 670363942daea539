"""SMS Disabled that the person's own opt-out set (a STOP, or Twilio's 21610) is lifted only by an
administrator with a written reason, kept in the phone's status history; other staff are told
why they cannot, on the person page and in the API. Other causes of SMS Disabled stay any staff
member's to lift."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from people import services
from people.models import PersonPhone, PhoneStatusChange, PhoneType, StatusCause
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _faculty_user() -> Any:
    """A staff member who may not text."""
    person = factories.staff(role_code="faculty", user=factories.UserFactory(username="prof"))
    return person.user


def _phone(cell: PhoneType) -> PersonPhone:
    return factories.PhoneFactory(person=factories.student(), phone_type=cell)


@pytest.fixture
def stopped(cell: PhoneType) -> PersonPhone:
    """A phone whose owner texted STOP (T4)."""
    phone = _phone(cell)
    services.phone_status_set(phone=phone, status="disabled", cause=StatusCause.OPT_OUT)
    return phone


@pytest.fixture
def unsubscribed(cell: PhoneType) -> PersonPhone:
    """A phone Twilio refused with 21610 (the number texted STOP to Twilio)."""
    phone = _phone(cell)
    services.phone_status_set(
        phone=phone, status="disabled", cause=StatusCause.ERROR_CODE, error_code=21610
    )
    return phone


def _lift(api: APIClient, phone: PersonPhone, **extra: Any) -> Any:
    return api.patch(f"/api/v1/phones/{phone.pk}/", {"sms_status": "enabled", **extra}, "json")


# The API -----------------------------------------------------------------------------------


@pytest.mark.parametrize("phone_fixture", ["stopped", "unsubscribed"])
def test_a_permitted_advisor_cannot_lift_the_persons_own_opt_out(
    advisor_api: APIClient, phone_fixture: str, request: pytest.FixtureRequest
) -> None:
    phone: PersonPhone = request.getfixturevalue(phone_fixture)
    response = _lift(advisor_api, phone, reason="they asked me")
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert f"{phone.number} is SMS Disabled because its owner" in detail
    assert "Only an administrator can lift the person's own opt-out" in detail
    phone.refresh_from_db()
    assert phone.sms_status == "disabled"
    assert PhoneStatusChange.objects.filter(phone=phone).count() == 1


def test_staff_who_may_not_text_cannot_lift_it_either(stopped: PersonPhone) -> None:
    api = client_for(_faculty_user())
    response = api.patch(f"/api/v1/phones/{stopped.pk}/", {"sms_status": "default"}, "json")
    assert response.status_code == 403
    stopped.refresh_from_db()
    assert stopped.sms_status == "disabled"


def test_an_administrator_needs_a_written_reason(
    admin_api: APIClient, stopped: PersonPhone
) -> None:
    for body in ({}, {"reason": "   "}):
        response = _lift(admin_api, stopped, **body)
        assert response.status_code == 400
        assert "write why texting them again is right" in response.json()["reason"][0]
    stopped.refresh_from_db()
    assert stopped.sms_status == "disabled"


def test_an_administrator_lifts_it_with_a_reason_kept_in_the_history(
    admin_api: APIClient, admin_user: Any, unsubscribed: PersonPhone
) -> None:
    response = _lift(admin_api, unsubscribed, reason="Asked in person on 2 March to get texts.")
    assert response.status_code == 200
    assert "reason" not in response.json()
    unsubscribed.refresh_from_db()
    assert unsubscribed.sms_status == "enabled"
    change = PhoneStatusChange.objects.filter(phone=unsubscribed).first()
    assert change is not None
    assert (change.old_status, change.new_status, change.cause, change.changed_by) == (
        "disabled",
        "enabled",
        "manual",
        admin_user,
    )
    assert change.reason == "Asked in person on 2 March to get texts."


@pytest.mark.parametrize(
    ("cause", "code"),
    [(StatusCause.MANUAL, None), (StatusCause.ERROR_CODE, 30005), (StatusCause.ERROR_CODE, 21211)],
)
def test_staff_lift_sms_disabled_that_was_not_the_persons_own_opt_out(
    advisor_api: APIClient, cell: PhoneType, cause: str, code: int | None
) -> None:
    phone = _phone(cell)
    services.phone_status_set(phone=phone, status="disabled", cause=cause, error_code=code)
    assert _lift(advisor_api, phone).status_code == 200
    phone.refresh_from_db()
    assert phone.sms_status == "enabled"


def test_the_latest_cause_decides(advisor_api: APIClient, stopped: PersonPhone) -> None:
    """STOP, then START (the person's own opt-in), then disabled by hand: staff may lift it."""
    services.phone_status_set(phone=stopped, status="enabled", cause=StatusCause.OPT_IN)
    services.phone_status_set(phone=stopped, status="disabled", cause=StatusCause.MANUAL)
    assert _lift(advisor_api, stopped).status_code == 200


def test_staff_may_still_change_the_verified_mark_of_an_opted_out_phone(
    advisor_api: APIClient, stopped: PersonPhone
) -> None:
    response = advisor_api.patch(f"/api/v1/phones/{stopped.pk}/", {"verified": True}, "json")
    assert response.status_code == 200
    stopped.refresh_from_db()
    assert stopped.verified_at is not None
    assert stopped.sms_status == "disabled"


# The person page ---------------------------------------------------------------------------


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _status_select(html: str, phone: PersonPhone) -> str:
    match = re.search(rf'<select [^>]*id="phone{phone.pk}_sms_status"[^>]*>', html)
    assert match, html
    return match.group()


def test_the_person_page_shows_staff_why_they_cannot_lift_it(
    advisor: Any, stopped: PersonPhone
) -> None:
    html = _login(advisor.user).get(reverse("person-detail", args=[stopped.person_id])).content
    page = html.decode()
    assert " disabled " in _status_select(page, stopped)
    assert "Only an administrator can lift the person&#x27;s own opt-out" in page
    assert f'id="phone{stopped.pk}_reason"' not in page


def test_a_forged_lift_from_the_page_is_refused_with_the_reason(
    advisor: Any, stopped: PersonPhone
) -> None:
    response = _login(advisor.user).post(
        reverse("phone-edit", args=[stopped.pk]),
        {"sms_status": "enabled", "shown_status": "disabled"},
        follow=True,
    )
    page = response.content.decode()
    assert "Only an administrator can lift the person&#x27;s own opt-out" in page
    stopped.refresh_from_db()
    assert stopped.sms_status == "disabled"


def test_staff_save_the_verified_mark_while_the_status_is_shown_disabled(
    advisor: Any, stopped: PersonPhone
) -> None:
    # A disabled <select> is not posted: only shown_status and the checkbox arrive.
    response = _login(advisor.user).post(
        reverse("phone-edit", args=[stopped.pk]), {"shown_status": "disabled", "verified": "on"}
    )
    assert response.status_code == 302
    stopped.refresh_from_db()
    assert (stopped.sms_status, stopped.verified_by) == ("disabled", advisor.user)


def test_an_administrator_lifts_it_from_the_page_with_a_reason(
    admin_user: Any, stopped: PersonPhone
) -> None:
    client = _login(admin_user)
    page = client.get(reverse("person-detail", args=[stopped.person_id])).content.decode()
    assert " disabled " not in _status_select(page, stopped)
    assert f'id="phone{stopped.pk}_reason"' in page
    refused = client.post(
        reverse("phone-edit", args=[stopped.pk]),
        {"sms_status": "enabled", "shown_status": "disabled"},
        follow=True,
    )
    assert "write why texting them again is right" in refused.content.decode()
    stopped.refresh_from_db()
    assert stopped.sms_status == "disabled"
    lifted = client.post(
        reverse("phone-edit", args=[stopped.pk]),
        {"sms_status": "enabled", "shown_status": "disabled", "reason": "Asked at the desk."},
        follow=True,
    )
    stopped.refresh_from_db()
    assert stopped.sms_status == "enabled"
    assert "Reason: Asked at the desk." in lifted.content.decode()
