"""`Idempotency-Key` on POST messages/ and messages/bulk/: a repeated request returns the first
answer and sends nothing again (a client whose first attempt timed out may safely retry)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from messaging.models import Message, SendRequest
from tests.conftest import client_for
from tests.sending_support import pool_numbers, student_with_phone
from twilio_bridge.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("config", "policy")

KEY = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


def post(api: APIClient, capture: Any, url: str, data: Any, key: str | None = KEY) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    with capture(execute=True):
        return api.post(url, data, format="json", headers=headers)


def test_a_repeated_send_returns_the_first_answer_and_texts_once(
    advisor_api: APIClient, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    data = {"recipient": student.pk, "body": "Your appointment is at 10"}

    first = post(advisor_api, django_capture_on_commit_callbacks, "/api/v1/messages/", data)
    again = post(advisor_api, django_capture_on_commit_callbacks, "/api/v1/messages/", data)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Message.objects.count() == 1
    assert len(sandbox.creates()) == 1


def test_without_a_key_each_request_sends(
    advisor_api: APIClient, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    data = {"recipient": student.pk, "body": "Hi"}

    for _ in range(2):
        post(advisor_api, django_capture_on_commit_callbacks, "/api/v1/messages/", data, key=None)

    assert Message.objects.count() == 2
    assert SendRequest.objects.count() == 0


def test_the_same_key_with_another_body_is_refused_with_422(
    advisor_api: APIClient, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    url = "/api/v1/messages/"
    post(
        advisor_api, django_capture_on_commit_callbacks, url, {"recipient": student.pk, "body": "A"}
    )

    other = post(
        advisor_api, django_capture_on_commit_callbacks, url, {"recipient": student.pk, "body": "B"}
    )

    assert other.status_code == 422
    assert "was used for another request" in other.json()["detail"]
    assert list(Message.objects.values_list("body", flat=True)) == ["A"]


def test_keys_belong_to_their_sender(
    advisor: Any, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    from tests import factories

    pool_numbers(2)
    student, _ = student_with_phone()
    colleague = factories.staff(user=factories.UserFactory(username="colleague"))
    data = {"recipient": student.pk, "body": "Hi"}

    for api in (client_for(advisor.user), client_for(colleague.user)):
        response = post(api, django_capture_on_commit_callbacks, "/api/v1/messages/", data)
        assert response.status_code == 201

    assert sorted(Message.objects.values_list("sender_id", flat=True)) == sorted(
        [advisor.pk, colleague.pk]
    )


def test_a_refused_send_does_not_keep_its_key(
    advisor_api: APIClient, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    url = "/api/v1/messages/"

    refused = post(
        advisor_api, django_capture_on_commit_callbacks, url, {"recipient": student.pk, "body": " "}
    )
    assert refused.status_code == 400
    assert SendRequest.objects.count() == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "naïve"])
def test_an_unusable_key_is_a_400_that_says_what_a_key_is(
    advisor_api: APIClient, django_capture_on_commit_callbacks: Any, key: str
) -> None:
    student, _ = student_with_phone()

    response = post(
        advisor_api,
        django_capture_on_commit_callbacks,
        "/api/v1/messages/",
        {"recipient": student.pk, "body": "Hi"},
        key=key,
    )

    assert response.status_code == 400
    assert "visible ASCII" in str(response.json()["Idempotency-Key"])
    assert Message.objects.count() == 0


def test_a_repeated_cohort_returns_the_first_answer_and_sends_once(
    advisor_api: APIClient, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    people = [student_with_phone(f"+120255580{i:02d}")[0] for i in range(3)]
    data = {"recipients": [p.pk for p in people], "body": "Registration opens Monday"}
    url = "/api/v1/messages/bulk/"

    first = post(advisor_api, django_capture_on_commit_callbacks, url, data)
    again = post(advisor_api, django_capture_on_commit_callbacks, url, data)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert Message.objects.count() == 3
    assert len(sandbox.creates()) == 3


def test_a_key_whose_earlier_request_has_no_answer_gets_409_and_sends_nothing(
    advisor: Any, advisor_api: APIClient, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    from messaging import idempotency

    pool_numbers(1)
    people = [student_with_phone(f"+120255581{i:02d}")[0] for i in range(3)]
    data = {"recipients": [p.pk for p in people], "body": "Hi"}
    url = "/api/v1/messages/bulk/"
    # A key row without an answer: the API writes both in one transaction, so only a caller
    # committing in between could leave one; the repeat must still send nothing.
    idempotency.send_request_begin(
        sender=advisor, key=KEY, fingerprint=idempotency.fingerprint(url, data)
    )

    response = post(advisor_api, django_capture_on_commit_callbacks, url, data)

    assert response.status_code == 409
    assert "has not finished" in response.json()["detail"]
    assert Message.objects.count() == 0


def test_a_refused_cohort_frees_its_key_for_the_corrected_request(
    advisor_api: APIClient, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    person, _ = student_with_phone()
    url = "/api/v1/messages/bulk/"

    refused = post(
        advisor_api,
        django_capture_on_commit_callbacks,
        url,
        {"recipients": [person.pk, 987654], "body": "Hi"},
    )
    corrected = post(
        advisor_api,
        django_capture_on_commit_callbacks,
        url,
        {"recipients": [person.pk], "body": "Hi"},
    )

    assert (refused.status_code, corrected.status_code) == (400, 201)
    assert Message.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="races are proven on PostgreSQL (set DATABASE_URL)"
)
def test_five_repeats_racing_with_one_key_send_one_text(advisor: Any, sandbox: Sandbox) -> None:
    from tests.parallel import run_at_once

    pool_numbers(1)
    student, _ = student_with_phone()
    data = {"recipient": student.pk, "body": "Hi"}

    def attempt() -> tuple[int, Any]:
        response = client_for(advisor.user).post(
            "/api/v1/messages/", data, format="json", headers={"Idempotency-Key": KEY}
        )
        return response.status_code, response.json()

    answers = run_at_once(lambda i: attempt(), 5)

    assert {status for status, _ in answers} == {201}
    assert len({body["id"] for _, body in answers}) == 1
    assert Message.objects.count() == 1
    assert len(sandbox.creates()) == 1


def test_administrators_see_keys_in_the_admin_and_cannot_edit_them(
    advisor: Any, superuser: Any
) -> None:
    from django.test import Client

    from messaging import idempotency

    started, _ = idempotency.send_request_begin(sender=advisor, key=KEY, fingerprint="f" * 64)
    assert started is not None
    idempotency.send_request_finish(request=started, status_code=201, response={"id": 1})
    client = Client()
    client.force_login(superuser)

    listing = client.get("/admin/messaging/sendrequest/?status_code=201")
    change = client.post(f"/admin/messaging/sendrequest/{started.pk}/change/", {"key": "other"})

    assert listing.status_code == 200 and KEY in listing.content.decode()
    assert change.status_code == 403
    started.refresh_from_db()
    assert started.key == KEY


def test_a_repeat_written_differently_but_meaning_the_same_replays(
    advisor_api: APIClient, sandbox: Sandbox, django_capture_on_commit_callbacks: Any
) -> None:
    pool_numbers(1)
    student, _ = student_with_phone()
    url = "/api/v1/messages/"

    first = post(
        advisor_api,
        django_capture_on_commit_callbacks,
        url,
        {"recipient": student.pk, "body": "Hi"},
    )
    # The same request as a form post: every value is text there.
    with django_capture_on_commit_callbacks(execute=True):
        again = advisor_api.post(
            url,
            {"body": "Hi", "recipient": str(student.pk)},
            format="multipart",
            headers={"Idempotency-Key": KEY},
        )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Message.objects.count() == 1


def test_a_request_that_failed_leaves_its_key_free_and_nothing_recorded(
    advisor: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.test import TestCase

    pool_numbers(1)
    people = [student_with_phone(f"+120255582{i:02d}")[0] for i in range(3)]
    data = {"recipients": [p.pk for p in people], "body": "Hi"}
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(advisor.user)
    real = Message.objects.bulk_create

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Message.objects, "bulk_create", broken)
    failed = api.post(
        "/api/v1/messages/bulk/", data, format="json", headers={"Idempotency-Key": KEY}
    )
    monkeypatch.setattr(Message.objects, "bulk_create", real)
    with TestCase.captureOnCommitCallbacks(execute=True):
        repeated = api.post(
            "/api/v1/messages/bulk/", data, format="json", headers={"Idempotency-Key": KEY}
        )

    assert (failed.status_code, repeated.status_code) == (500, 201)
    assert "Idempotent-Replayed" not in repeated.headers
    assert Message.objects.count() == 3
    assert len(sandbox.creates()) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="races are proven on PostgreSQL (set DATABASE_URL)"
)
def test_repeats_of_a_refused_cohort_racing_with_one_key_are_all_refused_never_a_500(
    advisor: Any,
) -> None:
    from tests.parallel import run_at_once

    known, _ = student_with_phone()
    data = {"recipients": [known.pk, 987654], "body": "Hi"}

    def attempt() -> int:
        response = client_for(advisor.user).post(
            "/api/v1/messages/bulk/", data, format="json", headers={"Idempotency-Key": KEY}
        )
        return response.status_code

    statuses = [code for _ in range(10) for code in run_at_once(lambda i: attempt(), 6)]

    assert set(statuses) == {400}
    assert Message.objects.count() == 0
    assert SendRequest.objects.count() == 0


def test_keys_older_than_the_keeping_period_are_purged_by_the_daily_job(
    advisor: Any, settings: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from messaging import tasks

    settings.SEND_REQUEST_KEEP_DAYS = 7
    old = SendRequest.objects.create(sender=advisor, key="old", fingerprint="f", status_code=201)
    recent = SendRequest.objects.create(sender=advisor, key="new", fingerprint="f", status_code=201)
    SendRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))

    assert tasks.purge_send_requests.apply().result == 1

    assert list(SendRequest.objects.values_list("pk", flat=True)) == [recent.pk]
    schedule = settings.CELERY_BEAT_SCHEDULE["purge-send-requests"]
    assert schedule["task"] == tasks.purge_send_requests.name
