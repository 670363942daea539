"""How one text will travel (S2, S4, R5): the delivery plan, pure rules like messaging.routing.

Routing (messaging.routing) picks the person's phone or email address. The plan adds the two
facts that decide whether a routed text really goes by SMS: the sender's number (held, or a free
one from the pool, S2) and this month's limit (S4). It answers "SMS from N to P", "email to E
because X" or "nowhere because Y".

Every path that decides uses this one function: a single send and a cohort (messaging.services),
the preview, the person page's route box, and the worker's re-check at send time
(messaging.sending). The callers gather the facts (and take the number and the month's units
with the pool's locks); no ORM, settings, clock or I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from messaging import routing
from messaging.models import Channel, FailureReason

_WHY: dict[str, str] = {
    FailureReason.NO_SMS_PHONE: "no phone can receive texts",
    FailureReason.NO_EMAIL: "no phone can receive texts and there is no email address",
    FailureReason.NO_SENDER_NUMBER: "the sender has no texting number and none is free",
    FailureReason.SMS_LIMIT_REACHED: "this month's texting limit is reached",
}


@dataclass(frozen=True, slots=True)
class Plan:
    """One text's way: by SMS (`phone`, `from_number`), or by email or nowhere because
    `why_not_sms` (a failure-reason code)."""

    channel: Channel
    destination: str
    explanation: str
    why_not_sms: str = ""
    phone: routing.PhoneFacts | None = None
    from_number: str = ""
    # Why not by SMS (and, going nowhere, why not by email either), in words: "" by SMS.
    because: str = ""

    @property
    def by_sms(self) -> bool:
        return self.channel == Channel.SMS

    @property
    def failure_reason(self) -> str:
        """The reason a message recorded on this plan carries: why not by SMS when it goes by
        email; NO_EMAIL when it goes nowhere."""
        if self.channel == Channel.NONE:
            return FailureReason.NO_EMAIL
        return self.why_not_sms


def why_not_sms(reason: str) -> str:
    """Why a text does not go by SMS, in words, for a failure-reason code."""
    return _WHY.get(reason, reason)


def instead_of_sms(reason: str, email: str) -> Plan:
    """By email to `email` because of `reason`; nowhere (NO_EMAIL) without an address."""
    why = why_not_sms(reason)
    if email:
        return Plan(Channel.EMAIL, email, f"Email to {email} because {why}.", reason, because=why)
    if reason != FailureReason.NO_EMAIL:
        why += " and there is no email address"
    return Plan(Channel.NONE, "", f"Nowhere because {why}.", reason, because=why)


def plan(route: routing.Route, *, email: str, from_number: str, within_limit: bool) -> Plan:
    """The way of one text routed `route` to a person whose address is `email`.

    `from_number`: the sender's number ("" when they hold none and none is free);
    `within_limit`: this month's limit leaves room for it.
    """
    if route.channel != "sms" or route.phone is None:
        return instead_of_sms(route.reason, email.strip())
    if not from_number:
        return instead_of_sms(FailureReason.NO_SENDER_NUMBER, email.strip())
    if not within_limit:
        return instead_of_sms(FailureReason.SMS_LIMIT_REACHED, email.strip())
    return Plan(
        Channel.SMS,
        route.phone.number,
        f"SMS from {from_number} to {route.phone.number}.",
        phone=route.phone,
        from_number=from_number,
    )


def texts_wanted(routes: Sequence[routing.Route], *, from_number: str) -> int:
    """How many of `routes` need a unit of the month's limit: the SMS routes, when the sender
    has a number (without one they go by email and take none)."""
    if not from_number:
        return 0
    return sum(1 for route in routes if route.channel == "sms" and route.phone is not None)


def plans(
    recipients: Sequence[tuple[routing.Route, str]], *, from_number: str, units: int
) -> list[Plan]:
    """The ways of a cohort's texts, in order: `recipients` are (route, email) pairs; the first
    `units` texts that can go by SMS do, the rest by email because the month's limit is reached."""
    out: list[Plan] = []
    for route, email in recipients:
        wants_sms = route.channel == "sms" and route.phone is not None
        out.append(plan(route, email=email, from_number=from_number, within_limit=units > 0))
        if wants_sms and from_number and units > 0:
            units -= 1
    return out
