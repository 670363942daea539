"""The REST contract of sending: messages/, phone-usage/, sms-usage/, sender-numbers/."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from messaging.models import Channel, Direction, FailureReason, Message, Status
from people.models import PersonPhone
from sms_admin import pool
from sms_admin import services as sms_admin_services
from sms_admin.models import SenderAssignment, SenderNumber
from tests import factories
from tests.conftest import client_for
from tests.sending_support import pool_numbers, student_with_phone
from twilio_bridge.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("config", "policy")


def post(api: APIClient, capture: Any, data: Any) -> Any:
    with capture(execute=True):
        return api.post("/api/v1/messages/", data, format="json")


def test_posting_a_message_returns_201_with_its_channel_status_and_destination(
    advisor_api: APIClient, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, phone = student_with_phone()

    response = post(
        advisor_api, django_capture_on_commit_callbacks, {"recipient": student.pk, "body": "Hi"}
    )

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("channel", "status", "destination", "failure_reason")} == {
        "channel": "sms",
        "status": "queued",
        "destination": phone.number,
        "failure_reason": "",
    }
    assert Message.objects.get(pk=body["id"]).status == Status.SENT


def test_a_post_routed_to_email_says_so_with_the_reason(
    advisor_api: APIClient, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    student, _ = student_with_phone(email="lee@example.edu")  # no pool number at all

    response = post(
        advisor_api, django_capture_on_commit_callbacks, {"recipient": student.pk, "body": "Hi"}
    )

    assert response.status_code == 201
    assert (response.json()["channel"], response.json()["failure_reason"]) == (
        "email",
        "NO_SENDER_NUMBER",
    )


def test_a_user_without_a_permitted_role_gets_403_with_a_message(
    student_api: APIClient, sandbox: Sandbox
) -> None:
    target, _ = student_with_phone()

    response = student_api.post("/api/v1/messages/", {"recipient": target.pk, "body": "Hi"})

    assert response.status_code == 403
    assert "permitted role" in response.json()["detail"]
    assert Message.objects.count() == 0


def test_an_administrator_without_a_person_cannot_send(admin_api: APIClient) -> None:
    target, _ = student_with_phone()
    response = admin_api.post("/api/v1/messages/", {"recipient": target.pk, "body": "Hi"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"body": ""}, "body", "empty"),
        ({"body": "x" * 1001}, "body", "limit is 1000"),
        ({"recipient": 999999, "body": "Hi"}, "recipient", "no person"),
        ({"recipient": "abc", "body": "Hi"}, "recipient", "json number"),
        ({"body": "Hi", "recipient": None}, "recipient", "null"),
    ],
)
def test_bad_input_gets_400_naming_the_field_and_saves_nothing(
    advisor_api: APIClient, data: dict[str, Any], field: str, words: str
) -> None:
    student, _ = student_with_phone()
    payload = {"recipient": student.pk, **data}

    response = advisor_api.post("/api/v1/messages/", payload, format="json")

    assert response.status_code == 400
    assert words in str(response.json()[field]).lower()
    assert Message.objects.count() == 0


def test_the_message_report_lists_newest_first_with_the_contract_fields(
    admin_api: APIClient, advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    from messaging import services

    pool_numbers(1)
    student, _ = student_with_phone("+15005550001")
    with django_capture_on_commit_callbacks(execute=True):
        text = services.message_send(sender=advisor, recipient_id=student.pk, body="Hi")

    rows = admin_api.get("/api/v1/messages/").json()["results"]

    fallback, first = rows
    assert first["id"] == text.pk
    assert {
        "id",
        "direction",
        "sender",
        "recipient",
        "channel",
        "destination",
        "body",
        "status",
        "failure_reason",
        "twilio_sid",
        "error_code",
        "segments",
        "replaces",
        "created_at",
    } <= first.keys()
    assert (first["status"], first["failure_reason"], first["error_code"]) == (
        "failed",
        "TWILIO_INVALID_NUMBER",
        21211,
    )
    assert (fallback["channel"], fallback["replaces"]) == ("email", text.pk)
    assert (first["sender"], first["recipient"]) == (advisor.pk, student.pk)


def test_the_message_report_filters_by_every_contract_filter(admin_api: APIClient) -> None:
    a, b = factories.staff(), factories.student()
    Message.objects.create(
        direction=Direction.OUTBOUND, sender=a, recipient=b, channel=Channel.SMS, body="1"
    )
    Message.objects.create(
        direction=Direction.OUTBOUND,
        sender=a,
        recipient=b,
        channel=Channel.EMAIL,
        body="2",
        status=Status.SENT,
        failure_reason=FailureReason.SMS_LIMIT_REACHED,
    )
    Message.objects.create(
        direction=Direction.INBOUND, sender=b, channel=Channel.SMS, body="3", status="received"
    )

    def bodies(query: str) -> list[str]:
        response = admin_api.get(f"/api/v1/messages/?{query}")
        assert response.status_code == 200, response.content
        return sorted(r["body"] for r in response.json()["results"])

    assert bodies("direction=inbound") == ["3"]
    assert bodies(f"sender={a.pk}") == ["1", "2"]
    assert bodies(f"recipient={b.pk}&channel=email") == ["2"]
    assert bodies("status=queued") == ["1"]
    assert bodies("failure_reason=SMS_LIMIT_REACHED") == ["2"]
    assert bodies("created_after=2000-01-01&created_before=2999-12-31") == ["1", "2", "3"]
    assert bodies("created_before=2000-01-01") == []


@pytest.mark.parametrize(
    "query", ["status=lost", "sender=abc", "created_after=yesterday", "channel=fax"]
)
def test_a_bad_report_filter_gets_400_not_500(admin_api: APIClient, query: str) -> None:
    response = admin_api.get(f"/api/v1/messages/?{query}")
    assert response.status_code == 400
    assert response.json()


def test_the_message_report_is_for_administrators_only(advisor_api: APIClient) -> None:
    assert advisor_api.get("/api/v1/messages/").status_code == 403


def test_one_message_is_readable_by_id(admin_api: APIClient) -> None:
    message = Message.objects.create(direction=Direction.OUTBOUND, channel=Channel.SMS, body="x")
    assert admin_api.get(f"/api/v1/messages/{message.pk}/").json()["body"] == "x"
    assert admin_api.get("/api/v1/messages/999999/").status_code == 404


def test_phone_usage_shows_the_limit_the_count_and_who_holds_which_number(
    admin_api: APIClient, advisor: Any
) -> None:
    [number] = pool_numbers(1)
    pool.sender_number_ensure(person=advisor)

    body = admin_api.get("/api/v1/phone-usage/").json()

    assert (body["limit"], body["used"]) == (5, 1)
    [row] = body["results"]
    assert (row["person"], row["person_name"], row["number"]) == (
        advisor.pk,
        advisor.full_name,
        number.number,
    )
    assert row["assigned_at"]


def test_phone_usage_lists_the_twilio_tabs_grid_rows_in_its_order(
    admin_api: APIClient, advisor: Any
) -> None:
    from sms_admin import selectors as sms_admin_selectors

    pool_numbers(3)
    holders = [advisor, factories.staff(), factories.staff()]
    for person in holders:
        pool.sender_number_ensure(person=person)

    rows = admin_api.get("/api/v1/phone-usage/").json()["results"]

    grid = sms_admin_selectors.sender_assignment_grid()
    assert [r["id"] for r in rows] == [a.pk for a in grid]
    assert [r["person"] for r in rows] == [p.pk for p in reversed(holders)]  # newest first


def test_integrations_read_usage(db: Any, config: Any) -> None:
    user = factories.UserFactory(username="sis")
    user.groups.add(Group.objects.create(name="integrations"))
    api = client_for(user)
    assert api.get("/api/v1/phone-usage/").status_code == 200
    assert api.get("/api/v1/sms-usage/").status_code == 200
    assert api.get("/api/v1/sender-numbers/").status_code == 403


def test_deleting_an_assignment_soft_deletes_the_system_phone_and_frees_the_number(
    admin_api: APIClient, advisor: Any
) -> None:
    [number] = pool_numbers(1)
    assignment = pool.sender_number_ensure(person=advisor)
    assert assignment is not None

    response = admin_api.delete(f"/api/v1/phone-usage/{assignment.pk}/")

    assert response.status_code == 204
    assignment.refresh_from_db()
    assert assignment.released_at is not None
    phone = PersonPhone.objects.get(pk=assignment.phone_id)
    assert phone.deleted is True
    assert admin_api.get("/api/v1/phone-usage/").json()["used"] == 0
    # The next new sender gets the freed number.
    newcomer = factories.staff()
    again = pool.sender_number_ensure(person=newcomer)
    assert again is not None and again.sender_number == number


def test_deleting_an_unknown_assignment_is_404(admin_api: APIClient) -> None:
    assert admin_api.delete("/api/v1/phone-usage/424242/").status_code == 404


def test_only_administrators_delete_assignments(advisor_api: APIClient, advisor: Any) -> None:
    pool_numbers(1)
    assignment = pool.sender_number_ensure(person=advisor)
    assert assignment is not None
    assert advisor_api.delete(f"/api/v1/phone-usage/{assignment.pk}/").status_code == 403


def test_sms_usage_shows_this_month_sent_limit_and_remaining(admin_api: APIClient) -> None:
    sms_admin_services.configuration_update(actor=None, sms_message_limit=10)
    assert pool.monthly_usage_reserve()
    assert pool.monthly_usage_reserve()
    year, month = pool.month_key()

    body = admin_api.get("/api/v1/sms-usage/").json()

    # The forecast fields (A1) depend on the clock: tests/sms_admin/test_forecast_pages.py.
    assert {k: body[k] for k in ("month", "limit", "sent", "remaining")} == {
        "month": f"{year}-{month:02d}",
        "limit": 10,
        "sent": 2,
        "remaining": 8,
    }


def test_sender_numbers_list_add_and_remove(admin_api: APIClient, advisor: Any) -> None:
    response = admin_api.post("/api/v1/sender-numbers/", {"number": "+1 (201) 555-0777"})
    assert response.status_code == 201
    assert response.json()["number"] == "+12015550777"
    assert admin_api.post("/api/v1/sender-numbers/", {"number": "+12015550777"}).status_code == 400
    assert admin_api.post("/api/v1/sender-numbers/", {"number": "12"}).status_code == 400
    pool.sender_number_ensure(person=advisor)

    rows = admin_api.get("/api/v1/sender-numbers/").json()

    assert rows == [
        {
            "id": response.json()["id"],
            "number": "+12015550777",
            "assigned_to": advisor.pk,
            "assigned_to_name": advisor.full_name,
        }
    ]
    refused = admin_api.delete("/api/v1/sender-numbers/", {"number": "+12015550777"})
    assert refused.status_code == 400
    assert "assigned to" in str(refused.json())
    spare = SenderNumber.objects.create(number="+12015550778")
    assert admin_api.delete(f"/api/v1/sender-numbers/{spare.pk}/").status_code == 204
    assert admin_api.delete("/api/v1/sender-numbers/?number=%2B12015550779").status_code == 404
    assert SenderNumber.objects.count() == 1
    assert SenderAssignment.objects.count() == 1


def test_removing_a_pool_number_by_number_is_recorded_in_the_change_history(
    admin_api: APIClient, admin_user: Any
) -> None:
    from sms_admin.models import ConfigurationChange

    admin_api.post("/api/v1/sender-numbers/", {"number": "+1 (201) 555-0778"})

    response = admin_api.delete("/api/v1/sender-numbers/?number=(201)%20555-0778")

    assert response.status_code == 204
    removed = ConfigurationChange.objects.get(field="sender_number", new_value="")
    assert (removed.old_value, removed.changed_by) == ("+12015550778", admin_user)
    assert admin_api.delete("/api/v1/sender-numbers/?number=+12015550778").status_code == 404
    assert admin_api.delete("/api/v1/sender-numbers/?number=garbage").status_code == 400


def test_a_sender_cannot_text_their_own_profile_through_the_api(
    config: Any, advisor: Any, advisor_api: APIClient
) -> None:
    from messaging.models import Message

    response = advisor_api.post(
        "/api/v1/messages/", {"recipient": advisor.pk, "body": "note to self"}, format="json"
    )

    assert response.status_code == 403
    assert "own profile" in response.json()["detail"]
    assert not Message.objects.exists()
