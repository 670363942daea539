"""The delivery plan: route + the sender's number + this month's room -> SMS, email or nowhere,
and why; one row per outcome, no database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from messaging import delivery
from messaging.models import Channel, FailureReason
from messaging.routing import ConfigFacts, PersonFacts, PhoneFacts, Route, route

CONFIG = ConfigFacts(student_opted_in=True, staff_opted_in=True, default_type_code="cell")
CELL = PhoneFacts(
    id=7, number="+12025550107", type_code="cell", sms_status="enabled", deleted=False,
    verified_at=None,
)  # fmt: skip
DISABLED = PhoneFacts(
    id=8, number="+12025550108", type_code="cell", sms_status="disabled", deleted=False,
    verified_at=None,
)  # fmt: skip
SENDER = "+12015550100"


def routed(*phones: PhoneFacts, email: str = "lena@example.edu") -> Route:
    return route(PersonFacts(id=1, kind="student", email=email, phones=phones), CONFIG)


@dataclass(frozen=True)
class Case:
    name: str
    route: Route
    email: str
    from_number: str
    within_limit: bool
    channel: Channel
    destination: str
    why_not_sms: str
    failure_reason: str
    explanation: str


CASES = [
    Case(
        "a textable phone, a number and room in the month: SMS from the number to the phone",
        routed(CELL), "lena@example.edu", SENDER, True,
        Channel.SMS, CELL.number, "", "", f"SMS from {SENDER} to {CELL.number}.",
    ),
    Case(
        "no textable phone: email, because no phone can receive texts",
        routed(DISABLED), "lena@example.edu", SENDER, True,
        Channel.EMAIL, "lena@example.edu", FailureReason.NO_SMS_PHONE, FailureReason.NO_SMS_PHONE,
        "Email to lena@example.edu because no phone can receive texts.",
    ),
    Case(
        "no textable phone and no email: nowhere",
        routed(DISABLED, email=""), "", SENDER, True,
        Channel.NONE, "", FailureReason.NO_EMAIL, FailureReason.NO_EMAIL,
        "Nowhere because no phone can receive texts and there is no email address.",
    ),
    Case(
        "the sender has no number and none is free: email",
        routed(CELL), "lena@example.edu", "", True,
        Channel.EMAIL, "lena@example.edu", FailureReason.NO_SENDER_NUMBER,
        FailureReason.NO_SENDER_NUMBER,
        "Email to lena@example.edu because the sender has no texting number and none is free.",
    ),
    Case(
        "the month's limit is reached: email, and the number is not used",
        routed(CELL), "lena@example.edu", SENDER, False,
        Channel.EMAIL, "lena@example.edu", FailureReason.SMS_LIMIT_REACHED,
        FailureReason.SMS_LIMIT_REACHED,
        "Email to lena@example.edu because this month's texting limit is reached.",
    ),
    Case(
        "the month's limit is reached and there is no email: nowhere, saying both",
        routed(CELL, email=""), "", SENDER, False,
        Channel.NONE, "", FailureReason.SMS_LIMIT_REACHED, FailureReason.NO_EMAIL,
        "Nowhere because this month's texting limit is reached and there is no email address.",
    ),
    Case(
        "no number beats the limit as the reason (the limit is not even asked)",
        routed(CELL), "lena@example.edu", "", False,
        Channel.EMAIL, "lena@example.edu", FailureReason.NO_SENDER_NUMBER,
        FailureReason.NO_SENDER_NUMBER,
        "Email to lena@example.edu because the sender has no texting number and none is free.",
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_plan_says_how_a_text_travels_and_why(case: Case) -> None:
    plan = delivery.plan(
        case.route, email=case.email, from_number=case.from_number, within_limit=case.within_limit
    )

    assert (plan.channel, plan.destination, plan.why_not_sms, plan.failure_reason) == (
        case.channel,
        case.destination,
        case.why_not_sms,
        case.failure_reason,
    )
    assert plan.explanation == case.explanation
    assert plan.by_sms == (case.channel == Channel.SMS)
    # Only an SMS plan carries the phone and the sender number.
    assert (plan.phone, plan.from_number) == ((CELL, SENDER) if plan.by_sms else (None, ""))


def test_a_cohort_takes_the_months_units_in_order_and_the_rest_go_by_email() -> None:
    recipients = [
        (routed(CELL), "a@example.edu"),
        (routed(DISABLED), "b@example.edu"),  # email anyway: takes no unit
        (routed(CELL), "c@example.edu"),
        (routed(CELL), "d@example.edu"),
    ]

    plans = delivery.plans(recipients, from_number=SENDER, units=2)

    assert [(p.channel, p.why_not_sms) for p in plans] == [
        (Channel.SMS, ""),
        (Channel.EMAIL, FailureReason.NO_SMS_PHONE),
        (Channel.SMS, ""),
        (Channel.EMAIL, FailureReason.SMS_LIMIT_REACHED),
    ]


def test_only_texts_that_would_go_by_sms_want_a_unit_of_the_month() -> None:
    routes = [routed(CELL), routed(DISABLED), routed(CELL)]

    assert delivery.texts_wanted(routes, from_number=SENDER) == 2
    # Without a number they all go by email: they must not use up the month for nothing.
    assert delivery.texts_wanted(routes, from_number="") == 0


def test_a_cohort_without_a_sender_number_goes_by_email_whatever_the_units() -> None:
    plans = delivery.plans([(routed(CELL), "a@example.edu")], from_number="", units=5)

    assert [(p.channel, p.why_not_sms) for p in plans] == [
        (Channel.EMAIL, FailureReason.NO_SENDER_NUMBER)
    ]
