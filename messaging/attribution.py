"""Whose conversation an inbound text joins (V1, V2): a pure rule, no ORM, settings, clock or I/O.

Facts come in as frozen dataclasses (built by messaging.selectors.inbound_attribution_facts, or
by the data migration that attributes texts recorded before the rule existed); a `Decision`
comes out: the staff member the text belongs to, or the office's shared inbox, and why in words.

The rule, for a text from phone P to sender number N:

- reply: the staff member who last texted P from N, when that text (not failed or undelivered)
  was sent within the reply window before the text arrived, even if N has since been released
  or given to someone else: the reply follows the text, not today's holder of the number.
- holder: otherwise N's current holder; the text is student-initiated (T7).
- shared: otherwise (nobody holds N) the shared inbox, which administrators see.

So a text is never attributed to a staff member who did not text P from N and does not hold N.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from messaging.models import Attribution


@dataclass(frozen=True, slots=True)
class StaffFacts:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class TextFacts:
    """The last SMS a staff member sent from N to P before the inbound text arrived (texts that
    failed or were undelivered left out), whatever its age: the rule applies the window."""

    sender: StaffFacts
    sent_at: datetime
    # The person it went to: with several people on one number, the one the reply comes from.
    recipient_id: int | None = None


@dataclass(frozen=True, slots=True)
class InboundFacts:
    from_number: str
    to_number: str
    received_at: datetime
    reply_window_days: int
    last_text: TextFacts | None
    # N's holder when the text arrived; None when nobody holds it (or N is not in the pool).
    holder: StaffFacts | None


@dataclass(frozen=True, slots=True)
class Decision:
    attribution: Attribution
    # None only for the shared inbox.
    staff: StaffFacts | None
    explanation: str

    @property
    def staff_id(self) -> int | None:
        return self.staff.id if self.staff is not None else None

    @property
    def is_reply(self) -> bool:
        """A reply changes no phone status; anything else is student-initiated (T7)."""
        return self.attribution == Attribution.REPLY


def within_window(facts: InboundFacts) -> bool:
    """Whether the last text from N to P was sent within the reply window before the text came."""
    text = facts.last_text
    if text is None:
        return False
    window_start = facts.received_at - timedelta(days=facts.reply_window_days)
    return window_start <= text.sent_at <= facts.received_at


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def attribute(facts: InboundFacts) -> Decision:
    """The conversation an inbound text from `facts.from_number` to `facts.to_number` joins."""
    p, n, window = facts.from_number, facts.to_number, _days(facts.reply_window_days)
    text = facts.last_text
    if text is not None and within_window(facts):
        explanation = (
            f"A reply to {text.sender.name}, who texted {p} from {n} on "
            f"{text.sent_at:%Y-%m-%d %H:%M %Z}".rstrip()
            + f", within the reply window of {window}"
        )
        holder = facts.holder
        if holder is None:
            explanation += f"; nobody holds {n} now."
        elif holder.id != text.sender.id:
            explanation += f"; {n} is now held by {holder.name}."
        else:
            explanation += "."
        return Decision(Attribution.REPLY, text.sender, explanation)
    nobody = f"Nobody texted {p} from {n} within the reply window of {window}"
    if facts.holder is not None:
        return Decision(
            Attribution.HOLDER,
            facts.holder,
            f"{nobody}, so it is a new text to {facts.holder.name}, who holds {n}.",
        )
    return Decision(
        Attribution.SHARED,
        None,
        f"{nobody} and nobody holds {n}, so it goes to the shared inbox.",
    )
