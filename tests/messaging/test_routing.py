"""The routing rules R1-R6, one row per rule and per question of the seed's Q&A; no database."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from messaging.routing import ConfigFacts, PersonFacts, PhoneFacts, Route, route

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


def phone(
    id: int,
    status: str = "default",
    type_code: str = "cell",
    verified_day: int | None = None,
    deleted: bool = False,
    system: bool = False,
    created_day: int | None = None,
) -> PhoneFacts:
    """A phone; `verified_day`/`created_day` are days after T0 (records are created in id order
    unless told otherwise)."""
    return PhoneFacts(
        id=id,
        number=f"+1202555{id:04d}",
        type_code=type_code,
        sms_status=status,  # type: ignore[arg-type]
        deleted=deleted,
        verified_at=None if verified_day is None else T0 + timedelta(days=verified_day),
        created_at=T0 + timedelta(days=id if created_day is None else created_day),
        is_system=system,
    )


OPTED_IN = ConfigFacts(student_opted_in=True, staff_opted_in=True, default_type_code="cell")
STUDENTS_OUT = ConfigFacts(student_opted_in=False, staff_opted_in=True, default_type_code="cell")
STAFF_OUT = ConfigFacts(student_opted_in=True, staff_opted_in=False, default_type_code="cell")
NO_DEFAULT_TYPE = ConfigFacts(student_opted_in=True, staff_opted_in=True, default_type_code=None)


@dataclass(frozen=True)
class Case:
    name: str
    phones: tuple[PhoneFacts, ...]
    channel: str
    phone_id: int | None
    rule: str
    kind: str = "student"
    config: ConfigFacts = OPTED_IN
    email: str = "kim@example.edu"
    reasons: dict[int, str] = field(default_factory=dict)


CASES = [
    # R2: SMS Enabled beats everything.
    Case(
        "SMS Enabled beats a verified SMS Default phone of the default type",
        (phone(1, "default", verified_day=9), phone(2, "enabled", "home")),
        "sms",
        2,
        "R2",
        reasons={1: "SMS Default; an SMS Enabled phone comes first"},
    ),
    Case(
        "SMS Enabled is texted even when the person's kind is opted out by default",
        (phone(1, "enabled", "home"),),
        "sms",
        1,
        "R2",
        config=STUDENTS_OUT,
    ),
    Case(
        "SMS Enabled is texted whatever its phone type",
        (phone(1, "enabled", "landline"),),
        "sms",
        1,
        "R2",
        config=NO_DEFAULT_TYPE,
    ),
    # Seed: "if multiple numbers are configured the same" -> the latest verified date.
    Case(
        "the latest verified date wins among several SMS Enabled phones",
        (
            phone(1, "enabled", verified_day=1),
            phone(2, "enabled", verified_day=30),
            phone(3, "enabled", verified_day=7),
        ),
        "sms",
        2,
        "R2",
        reasons={1: "older verified date", 3: "older verified date"},
    ),
    Case(
        "a verified SMS Enabled phone beats an older unverified one",
        (phone(1, "enabled"), phone(2, "enabled", verified_day=3)),
        "sms",
        2,
        "R2",
        reasons={1: "unverified; a verified phone comes first"},
    ),
    # R3: SMS Default only with the default type and only when the kind is opted in.
    Case(
        "SMS Default of the default type is texted when students are opted in",
        (phone(1, "default", "cell"),),
        "sms",
        1,
        "R3",
    ),
    Case(
        "the latest verified date wins among SMS Default phones of the default type",
        (phone(1, verified_day=5), phone(2, verified_day=2), phone(3)),
        "sms",
        1,
        "R3",
        reasons={2: "older verified date", 3: "unverified"},
    ),
    Case(
        "a student's SMS Default phone is not texted when students are opted out",
        (phone(1, "default", "cell", verified_day=1),),
        "email",
        None,
        "R5",
        config=STUDENTS_OUT,
        reasons={1: "students are opted out by default"},
    ),
    Case(
        "a staff member's SMS Default phone is texted when only students are opted out",
        (phone(1, "default", "cell"),),
        "sms",
        1,
        "R3",
        kind="staff",
        config=STUDENTS_OUT,
    ),
    Case(
        "a staff member's SMS Default phone is not texted when staff are opted out",
        (phone(1, "default", "cell"),),
        "email",
        None,
        "R5",
        kind="staff",
        config=STAFF_OUT,
        reasons={1: "staff are opted out by default"},
    ),
    Case(
        "a student's SMS Default phone is texted when only staff are opted out",
        (phone(1, "default", "cell"),),
        "sms",
        1,
        "R3",
        config=STAFF_OUT,
    ),
    # Seed: "SMS default and verified, yet the phone type does NOT match" -> not textable.
    Case(
        "a verified SMS Default phone of the wrong type is not texted; email instead",
        (phone(1, "default", "home", verified_day=20),),
        "email",
        None,
        "R5",
        reasons={1: "its type (home) is not the default SMS phone type (cell)"},
    ),
    Case(
        "a verified phone of the wrong type loses to an unverified one of the default type",
        (phone(1, "default", "home", verified_day=20), phone(2, "default", "cell")),
        "sms",
        2,
        "R3",
        reasons={1: "not the default SMS phone type"},
    ),
    Case(
        "with no default SMS phone type configured, SMS Default phones are not texted",
        (phone(1, "default", "cell"),),
        "email",
        None,
        "R5",
        config=NO_DEFAULT_TYPE,
        reasons={1: "no default SMS phone type is configured"},
    ),
    # Seed: "If no verified date is found" -> the same phone every time (R4): the oldest record.
    Case(
        "with no verified dates the oldest SMS Enabled record is used",
        (phone(5, "enabled", created_day=2), phone(3, "enabled", created_day=8)),
        "sms",
        5,
        "R4",
        reasons={3: "with no verified dates the oldest record is used every time"},
    ),
    Case(
        "with no verified dates the oldest SMS Default record is used",
        (phone(7), phone(4), phone(6)),
        "sms",
        4,
        "R4",
    ),
    Case(
        "with no verified dates and the same creation time the lowest id is used",
        (phone(9, created_day=1), phone(8, created_day=1)),
        "sms",
        8,
        "R4",
    ),
    # R1: deleted and disabled never chosen; system numbers neither.
    Case(
        "a deleted SMS Enabled phone is never texted, however recently verified",
        (phone(1, "enabled", verified_day=99, deleted=True), phone(2, "enabled", verified_day=1)),
        "sms",
        2,
        "R2",
        reasons={1: "deleted"},
    ),
    Case(
        "an SMS Disabled phone of the default type is never texted",
        (phone(1, "disabled", "cell", verified_day=9), phone(2, "default", "cell")),
        "sms",
        2,
        "R3",
        reasons={1: "SMS Disabled"},
    ),
    Case(
        "a person whose phones are all deleted or disabled gets an email",
        (phone(1, "enabled", deleted=True), phone(2, "disabled")),
        "email",
        None,
        "R5",
        reasons={1: "deleted", 2: "SMS Disabled"},
    ),
    Case(
        "a staff member's system (Twilio) number is never a destination",
        (phone(1, "enabled", "system", verified_day=5, system=True),),
        "email",
        None,
        "R5",
        kind="staff",
        reasons={1: "system (Twilio) number"},
    ),
    # R5: nothing textable -> email; no email -> none.
    Case("a person without phones gets an email", (), "email", None, "R5"),
    Case(
        "with no phone and no email the text is undeliverable",
        (phone(1, "disabled"),),
        "none",
        None,
        "R5",
        email="",
        reasons={1: "SMS Disabled"},
    ),
    Case("a blank email address counts as none", (), "none", None, "R5", email="   "),
]


def facts(case: Case, phones: tuple[PhoneFacts, ...] | None = None) -> PersonFacts:
    return PersonFacts(
        id=1,
        kind=case.kind,  # type: ignore[arg-type]
        email=case.email,
        phones=case.phones if phones is None else phones,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_routes_each_rule_as_the_spec_and_the_seed_say(case: Case) -> None:
    result = route(facts(case), case.config)

    assert (result.channel, result.phone.id if result.phone else None, result.rule) == (
        case.channel,
        case.phone_id,
        case.rule,
    )
    assert result.number == (result.phone.number if result.phone else "")
    assert result.email == (case.email.strip() if case.channel == "email" else "")
    reasons = {p.id: why for p, why in result.excluded}
    assert set(reasons) == {p.id for p in case.phones} - {case.phone_id}
    for phone_id, expected in case.reasons.items():
        assert expected in reasons[phone_id]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_route_does_not_depend_on_the_order_of_the_phones(case: Case) -> None:
    first = route(facts(case), case.config)

    for order in itertools.permutations(case.phones):
        assert route(facts(case, tuple(order)), case.config) == first


def test_a_person_with_several_textable_phones_gets_exactly_one_destination() -> None:
    person = PersonFacts(
        id=1,
        kind="student",
        email="kim@example.edu",
        phones=(phone(1, "enabled", verified_day=1), phone(2, "enabled", verified_day=2)),
    )

    result = route(person, OPTED_IN)

    assert isinstance(result.phone, PhoneFacts)
    assert result.phone.id == 2
    assert result.email == ""


def test_an_email_route_carries_the_no_sms_phone_reason() -> None:
    person = PersonFacts(id=1, kind="student", email="kim@example.edu", phones=())

    assert route(person, OPTED_IN).reason == "NO_SMS_PHONE"


def test_an_undeliverable_route_carries_the_no_email_reason() -> None:
    person = PersonFacts(id=1, kind="student", email="", phones=())

    result = route(person, OPTED_IN)

    assert result.reason == "NO_EMAIL"
    assert "no email address" in result.explanation


def test_an_sms_route_has_no_failure_reason() -> None:
    person = PersonFacts(id=1, kind="student", email="", phones=(phone(1, "enabled"),))

    assert route(person, OPTED_IN).reason == ""


def test_the_explanation_names_the_chosen_phone_the_rule_and_each_phone_passed_over() -> None:
    person = PersonFacts(
        id=1,
        kind="student",
        email="kim@example.edu",
        phones=(
            phone(1, "enabled", verified_day=10),
            phone(2, "enabled", verified_day=3),
            phone(3, "enabled"),
            phone(4, "enabled", verified_day=50, deleted=True),
            phone(5, "disabled"),
            phone(6, "default", "home"),
            phone(7, "default", "cell"),
        ),
    )

    result: Route = route(person, OPTED_IN)
    text = result.explanation

    assert text.startswith("Text to +12025550001 (cell, verified 2024-01-11 09:00 UTC)")
    assert "it is SMS Enabled; it has the latest verified date." in text
    assert "+12025550002: older verified date (2024-01-04 09:00 UTC)" in text
    assert "+12025550003: unverified; a verified phone comes first" in text
    assert "+12025550004: deleted" in text
    assert "+12025550005: SMS Disabled" in text
    assert (
        "+12025550006: SMS Default, but its type (home) is not the default SMS phone type" in text
    )
    assert "+12025550007: SMS Default; an SMS Enabled phone comes first" in text
    assert [p.id for p, _ in result.excluded] == [2, 3, 4, 5, 6, 7]


def test_the_explanation_of_an_opted_out_student_says_why_email_is_used() -> None:
    person = PersonFacts(id=1, kind="student", email="kim@example.edu", phones=(phone(1),))

    text = route(person, STUDENTS_OUT).explanation

    assert text.startswith("Email to kim@example.edu: no phone can receive texts.")
    assert "+12025550001: SMS Default, but students are opted out by default" in text


def test_the_explanation_of_the_oldest_record_rule_says_so_in_words() -> None:
    person = PersonFacts(
        id=1, kind="student", email="", phones=(phone(2, "enabled"), phone(1, "enabled"))
    )

    result = route(person, OPTED_IN)

    assert result.rule == "R4"
    assert "none is verified, so the oldest record is used every time." in result.explanation


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_no_explanation_cites_a_rule_id(case: Case) -> None:
    result = route(facts(case), case.config)

    assert not re.search(r"\b[CPRSTVQKA]\d{1,2}\b", result.explanation), result.explanation
