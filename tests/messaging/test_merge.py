"""Merge fields: the pure rules (no database), then a single send and a cohort through the API
(each recipient gets their own text; unknown placeholders and over-long merged texts are refused
naming what is wrong, nothing recorded)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from messaging import merge
from messaging.models import Message
from tests import factories
from tests.sending_support import pool_numbers, student_with_phone

VALUES = merge.values_for(
    first_name="Lena", last_name="Cho", staff_first_name="Ana", staff_last_name="Ruiz"
)


@pytest.mark.parametrize(
    ("body", "merged"),
    [
        ("Hi {first_name}, it's {staff_first_name}.", "Hi Lena, it's Ana."),
        ("{last_name}, {first_name} / {staff_last_name}", "Cho, Lena / Ruiz"),
        ("No fields at all.", "No fields at all."),
        ("Braces {} and { first_name } are text.", "Braces {} and { first_name } are text."),
        ("{first_name}{first_name}", "LenaLena"),
    ],
)
def test_each_known_placeholder_is_replaced_and_other_braces_stay(body: str, merged: str) -> None:
    assert merge.unknown(body) == []
    assert merge.merge(body, VALUES) == merged


def test_unknown_placeholders_are_named_in_the_refusal() -> None:
    body = "Hi {firstname}, see {link} and {link}, {first_name}"

    assert merge.unknown(body) == ["firstname", "link"]
    assert merge.refusal(body) == (
        "Unknown placeholders {firstname}, {link}: the fields are {first_name}, {last_name}, "
        "{staff_first_name}, {staff_last_name}."
    )
    assert merge.refusal("Hi {first_name}") == ""


@pytest.mark.parametrize(
    ("body", "written", "fix"),
    [
        ("Hi {first_name", "“{first_name”", "{first_name}"),
        ("Hi first_name}", "“first_name}”", "{first_name}"),
        ("Code: {{first_name}}", "“{{first_name}}”", "{first_name}"),
        ("{staff_last_name}} here", "“{staff_last_name}}”", "{staff_last_name}"),
        ("Hi {first_name} {last_name", "“{last_name”", "{last_name}"),
    ],
)
def test_a_field_with_a_brace_missing_or_doubled_is_refused_showing_how_to_write_it(
    body: str, written: str, fix: str
) -> None:
    assert merge.refusal(body) == (
        f"{written}: a merge field needs one brace on each side; write {fix}, "
        "or leave the braces out to send the word as it is."
    )


@pytest.mark.parametrize(
    "body", ["Hi {first_name}", "staff_first_name as a word", "{ first_name } stays text"]
)
def test_a_field_name_without_touching_braces_or_in_one_pair_is_not_a_typo(body: str) -> None:
    assert merge.malformed(body) == []
    assert merge.refusal(body) == ""


@pytest.fixture
def advisor_named(config: Any) -> Any:
    return factories.staff(
        first_name="Ana", last_name="Ruiz", user=factories.UserFactory(username="ana")
    )


def test_a_cohort_gets_one_merged_text_per_recipient(
    advisor_named: Any, sandbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.conftest import client_for

    pool_numbers(1)
    lena, _ = student_with_phone("+12025550101", first_name="Lena", last_name="Cho")
    omar, _ = student_with_phone("+12025550102", first_name="Omar", last_name="Diaz")

    with django_capture_on_commit_callbacks(execute=True):
        answer = client_for(advisor_named.user).post(
            reverse("messages-bulk"),
            {"recipients": [lena.pk, omar.pk], "body": "Hi {first_name}, {staff_first_name} here"},
            format="json",
        )

    assert answer.status_code == 201, answer.json()
    bodies = dict(Message.objects.values_list("recipient_id", "body"))
    assert bodies == {lena.pk: "Hi Lena, Ana here", omar.pk: "Hi Omar, Ana here"}
    sent = {c["form"]["To"]: c["form"]["Body"] for c in sandbox.creates()}
    assert sent == {"+12025550101": "Hi Lena, Ana here", "+12025550102": "Hi Omar, Ana here"}


def test_an_unknown_placeholder_is_refused_naming_it_and_nothing_is_recorded(
    advisor_named: Any,
) -> None:
    from tests.conftest import client_for

    lena, _ = student_with_phone(first_name="Lena")

    answer = client_for(advisor_named.user).post(
        reverse("messages"), {"recipient": lena.pk, "body": "Hi {frist_name}"}, format="json"
    )

    assert answer.status_code == 400
    assert "{frist_name}" in answer.json()["body"][0]
    assert not Message.objects.exists()


def test_a_merged_text_over_the_limit_is_refused_naming_the_recipient(
    advisor_named: Any, settings: Any
) -> None:
    from sms_admin import services as sms_admin_services
    from tests.conftest import client_for

    sms_admin_services.configuration_update(actor=None, sms_max_length=20)
    pool_numbers(1)
    short, _ = student_with_phone("+12025550103", first_name="Al")  # fits: "Hello Al!"
    long, _ = student_with_phone("+12025550104", first_name="Maximiliana-Josefina")

    answer = client_for(advisor_named.user).post(
        reverse("messages-bulk"),
        {"recipients": [short.pk, long.pk], "body": "Hello {first_name}!"},
        format="json",
    )

    assert answer.status_code == 400
    assert f"Maximiliana-Josefina {long.last_name} (id {long.pk})" in answer.json()["body"][0]
    assert not Message.objects.exists()


def test_a_text_with_a_brace_missing_is_refused_and_nothing_is_recorded(
    advisor_named: Any,
) -> None:
    from tests.conftest import client_for

    lena, _ = student_with_phone(first_name="Lena")
    client = client_for(advisor_named.user)

    single = client.post(
        reverse("messages"), {"recipient": lena.pk, "body": "Hi {first_name"}, format="json"
    )
    cohort = client.post(
        reverse("messages-bulk"), {"recipients": [lena.pk], "body": "Hi first_name}"}, format="json"
    )

    assert single.status_code == cohort.status_code == 400
    assert "write {first_name}" in single.json()["body"][0]
    assert "“first_name}”" in cohort.json()["body"][0]
    assert not Message.objects.exists()
