"""POST /api/v1/messages/bulk/: a cohort in one request, all or nothing when it is invalid."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from messaging.api.serializers_send import COHORT_MAX
from messaging.models import Channel, Message, Status
from people.models import SmsStatus
from tests.sending_support import pool_numbers, student_with_phone
from twilio_bridge.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("config", "policy")

URL = "/api/v1/messages/bulk/"


def post(api: APIClient, capture: Any, data: Any) -> Any:
    with capture(execute=True):
        return api.post(URL, data, format="json")


def test_a_cohort_is_recorded_one_message_per_recipient_and_reported_by_channel(
    advisor_api: APIClient, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    textable = [student_with_phone(f"+120255570{i:02d}")[0] for i in range(3)]
    by_email, _ = student_with_phone("+12025570190", sms_status=SmsStatus.DISABLED)
    ids = [p.pk for p in [*textable, by_email]]

    response = post(
        advisor_api,
        django_capture_on_commit_callbacks,
        {"recipients": [*ids, ids[0]], "body": "Registration opens Monday"},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["count"] == 4
    assert body["channels"] == {"sms": 3, "email": 1}
    assert body["failure_reasons"] == {"NO_SMS_PHONE": 1}
    recorded = Message.objects.in_bulk(body["message_ids"])
    assert [recorded[pk].recipient_id for pk in body["message_ids"]] == ids
    texts = Message.objects.filter(channel=Channel.SMS)
    assert sorted(texts.values_list("status", flat=True)) == [Status.SENT] * 3
    assert len(sandbox.creates()) == 3


def test_a_user_without_a_permitted_role_gets_403_whatever_the_body(
    student_api: APIClient,
) -> None:
    target, _ = student_with_phone()

    valid = student_api.post(URL, {"recipients": [target.pk], "body": "Hi"}, format="json")
    invalid = student_api.post(URL, {"recipients": "all"}, format="json")

    assert (valid.status_code, invalid.status_code) == (403, 403)
    assert "permitted role" in valid.json()["detail"]
    assert Message.objects.count() == 0


def test_an_anonymous_request_gets_401(anon_api: APIClient) -> None:
    response = anon_api.post(URL, {"recipients": [1], "body": "Hi"}, format="json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"recipients": [], "body": "Hi"}, "recipients", "empty"),
        ({"recipients": "all", "body": "Hi"}, "recipients", "list"),
        ({"recipients": ["x"], "body": "Hi"}, "recipients", "JSON number"),
        ({"recipients": [0], "body": "Hi"}, "recipients", "greater than or equal to 1"),
        ({"body": "Hi"}, "recipients", "required"),
        ({"recipients": "SELF", "body": ""}, "body", "empty"),
        ({"recipients": "SELF", "body": "x" * 2000}, "body", "limit"),
        ({"recipients": "SELF"}, "body", "required"),
    ],
)
def test_an_invalid_cohort_gets_400_with_the_field_and_nothing_is_recorded(
    advisor_api: APIClient, data: dict[str, Any], field: str, words: str
) -> None:
    target, _ = student_with_phone()
    if data.get("recipients") == "SELF":
        data = {**data, "recipients": [target.pk]}

    response = advisor_api.post(URL, data, format="json")

    assert response.status_code == 400, response.content
    assert words in str(response.json()[field])
    assert Message.objects.count() == 0


def test_unknown_ids_refuse_the_whole_cohort_and_name_them(
    advisor_api: APIClient, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    known, _ = student_with_phone()

    response = post(
        advisor_api,
        django_capture_on_commit_callbacks,
        {"recipients": [known.pk, 987654, 987655], "body": "Hi"},
    )

    assert response.status_code == 400
    message = str(response.json()["recipients"])
    assert "987654, 987655" in message and "Nothing was sent" in message
    assert Message.objects.count() == 0
    assert sandbox.creates() == []


def test_a_cohort_naming_the_sender_is_refused(advisor: Any, advisor_api: APIClient) -> None:
    other, _ = student_with_phone()

    response = advisor_api.post(
        URL, {"recipients": [other.pk, advisor.pk], "body": "Hi"}, format="json"
    )

    assert response.status_code == 400
    assert "own person id" in str(response.json()["recipients"])
    assert Message.objects.count() == 0


def test_a_cohort_larger_than_the_maximum_is_refused_before_anything_is_read(
    advisor_api: APIClient,
) -> None:
    response = advisor_api.post(
        URL, {"recipients": list(range(1, COHORT_MAX + 2)), "body": "Hi"}, format="json"
    )

    assert response.status_code == 400
    assert f"{COHORT_MAX}" in str(response.json()["recipients"])
    assert Message.objects.count() == 0


def test_a_person_deleted_while_the_cohort_is_recorded_is_reported_and_ids_keep_their_order(
    advisor_api: APIClient,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from messaging import services

    pool_numbers(1)
    first, gone, last = (student_with_phone(f"+120255571{i:02d}")[0] for i in range(3))
    gone_id = gone.pk
    checked = services._cohort_check

    def check_then_lose_one(*args: Any) -> list[int]:
        ids = checked(*args)
        gone.delete()  # by an administrator, between the check and the recording
        return ids

    monkeypatch.setattr(services, "_cohort_check", check_then_lose_one)

    response = post(
        advisor_api,
        django_capture_on_commit_callbacks,
        {"recipients": [first.pk, gone_id, last.pk], "body": "Hi"},
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["count"], body["unknown_recipients"]) == (2, [gone_id])
    recorded = Message.objects.in_bulk(body["message_ids"])
    assert [recorded[pk].recipient_id for pk in body["message_ids"]] == [first.pk, last.pk]
