"""Reply attribution (V1, V2): whose conversation an inbound text joins, and why; one row per
case, no database, then a property over random facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messaging import attribution
from messaging.attribution import InboundFacts, StaffFacts, TextFacts
from messaging.models import Attribution

LENA = "+12025550100"
N = "+12015550100"
ARRIVED = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
ADVISOR1 = StaffFacts(id=1, name="Ada One")
ADVISOR3 = StaffFacts(id=3, name="Cy Three")


def text_by(staff: StaffFacts, *, days_before: float) -> TextFacts:
    return TextFacts(sender=staff, sent_at=ARRIVED - timedelta(days=days_before), recipient_id=9)


def facts(
    last_text: TextFacts | None, holder: StaffFacts | None, *, window: int = 30
) -> InboundFacts:
    return InboundFacts(
        from_number=LENA,
        to_number=N,
        received_at=ARRIVED,
        reply_window_days=window,
        last_text=last_text,
        holder=holder,
    )


@dataclass(frozen=True)
class Case:
    name: str
    facts: InboundFacts
    attribution: Attribution
    staff: StaffFacts | None
    explanation: str


CASES = [
    Case(
        "the holder texted the phone yesterday: a reply to the holder",
        facts(text_by(ADVISOR1, days_before=1), ADVISOR1),
        Attribution.REPLY, ADVISOR1,
        f"A reply to Ada One, who texted {LENA} from {N} on 2026-03-09 15:00 UTC, within the "
        "reply window of 30 days.",
    ),
    Case(
        "the number changed hands since the text: the reply follows the text, not the holder",
        facts(text_by(ADVISOR1, days_before=2), ADVISOR3),
        Attribution.REPLY, ADVISOR1,
        f"A reply to Ada One, who texted {LENA} from {N} on 2026-03-08 15:00 UTC, within the "
        f"reply window of 30 days; {N} is now held by Cy Three.",
    ),
    Case(
        "the number was released and nobody holds it: still a reply to who texted",
        facts(text_by(ADVISOR1, days_before=2), None),
        Attribution.REPLY, ADVISOR1,
        f"A reply to Ada One, who texted {LENA} from {N} on 2026-03-08 15:00 UTC, within the "
        f"reply window of 30 days; nobody holds {N} now.",
    ),
    Case(
        "a text sent exactly at the window's start still counts",
        facts(text_by(ADVISOR1, days_before=30), ADVISOR3),
        Attribution.REPLY, ADVISOR1,
        f"A reply to Ada One, who texted {LENA} from {N} on 2026-02-08 15:00 UTC, within the "
        f"reply window of 30 days; {N} is now held by Cy Three.",
    ),
    Case(
        "a text older than the window: a new text to the current holder",
        facts(text_by(ADVISOR1, days_before=30.001), ADVISOR3),
        Attribution.HOLDER, ADVISOR3,
        f"Nobody texted {LENA} from {N} within the reply window of 30 days, so it is a new text "
        f"to Cy Three, who holds {N}.",
    ),
    Case(
        "the window is configurable: 7 days, a text 8 days old does not count",
        facts(text_by(ADVISOR1, days_before=8), ADVISOR1, window=7),
        Attribution.HOLDER, ADVISOR1,
        f"Nobody texted {LENA} from {N} within the reply window of 7 days, so it is a new text "
        f"to Ada One, who holds {N}.",
    ),
    Case(
        "a window of 1 day is worded in the singular",
        facts(None, ADVISOR1, window=1),
        Attribution.HOLDER, ADVISOR1,
        f"Nobody texted {LENA} from {N} within the reply window of 1 day, so it is a new text "
        f"to Ada One, who holds {N}.",
    ),
    Case(
        "a window of 0 days: nothing is a reply",
        facts(text_by(ADVISOR1, days_before=0.01), ADVISOR1, window=0),
        Attribution.HOLDER, ADVISOR1,
        f"Nobody texted {LENA} from {N} within the reply window of 0 days, so it is a new text "
        f"to Ada One, who holds {N}.",
    ),
    Case(
        "nobody ever texted the phone from the number: the holder's, student-initiated",
        facts(None, ADVISOR3),
        Attribution.HOLDER, ADVISOR3,
        f"Nobody texted {LENA} from {N} within the reply window of 30 days, so it is a new text "
        f"to Cy Three, who holds {N}.",
    ),
    Case(
        "no text and no holder: the shared inbox",
        facts(None, None),
        Attribution.SHARED, None,
        f"Nobody texted {LENA} from {N} within the reply window of 30 days and nobody holds "
        f"{N}, so it goes to the shared inbox.",
    ),
    Case(
        "an old text and no holder: the shared inbox, never the old sender",
        facts(text_by(ADVISOR1, days_before=45), None),
        Attribution.SHARED, None,
        f"Nobody texted {LENA} from {N} within the reply window of 30 days and nobody holds "
        f"{N}, so it goes to the shared inbox.",
    ),
    Case(
        "a text recorded after this one arrived is not what it answers",
        facts(text_by(ADVISOR1, days_before=-0.001), ADVISOR3),
        Attribution.HOLDER, ADVISOR3,
        f"Nobody texted {LENA} from {N} within the reply window of 30 days, so it is a new text "
        f"to Cy Three, who holds {N}.",
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_an_inbound_text_belongs_to_whoever_the_rule_says_and_says_why(case: Case) -> None:
    decision = attribution.attribute(case.facts)

    assert (decision.attribution, decision.staff) == (case.attribution, case.staff)
    assert decision.explanation == case.explanation
    assert decision.staff_id == (case.staff.id if case.staff else None)
    # Only a reply to somebody's text is a reply (T7: anything else is student-initiated).
    assert decision.is_reply == (case.attribution == Attribution.REPLY)


def test_a_date_without_a_zone_is_printed_without_one() -> None:
    naive = TextFacts(sender=ADVISOR1, sent_at=datetime(2026, 3, 9, 15, 0))
    decision = attribution.attribute(
        InboundFacts(LENA, N, datetime(2026, 3, 10, 15, 0), 30, naive, ADVISOR1)
    )

    assert "on 2026-03-09 15:00, within" in decision.explanation


staff = st.builds(StaffFacts, id=st.integers(min_value=1, max_value=4), name=st.just("Staff"))
texts = st.builds(
    TextFacts,
    sender=staff,
    sent_at=st.integers(min_value=-5, max_value=60).map(lambda d: ARRIVED - timedelta(days=d)),
)


@given(
    last_text=st.none() | texts,
    holder=st.none() | staff,
    window=st.integers(min_value=0, max_value=60),
)
def test_a_text_never_goes_to_someone_who_did_not_text_the_phone_and_does_not_hold_the_number(
    last_text: TextFacts | None, holder: StaffFacts | None, window: int
) -> None:
    decision = attribution.attribute(facts(last_text, holder, window=window))

    allowed = {holder.id if holder else None}
    if last_text is not None and attribution.within_window(facts(last_text, holder, window=window)):
        allowed = {last_text.sender.id}
    assert decision.staff_id in allowed
    assert (decision.staff is None) == (decision.attribution == Attribution.SHARED)
