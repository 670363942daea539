"""Where one text to one person goes (SPEC R1-R6): pure rules, no ORM, settings, clock or I/O.

Facts come in as frozen dataclasses built by messaging.selectors; a `Route` comes out with the
channel, the chosen phone, the rule that decided and an explanation a person can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Kind = Literal["student", "staff"]
SmsStatusValue = Literal["default", "enabled", "disabled"]
ChannelValue = Literal["sms", "email", "none"]
RuleId = Literal["R2", "R3", "R5"]


@dataclass(frozen=True, slots=True)
class PhoneFacts:
    id: int
    number: str
    type_code: str
    sms_status: SmsStatusValue
    deleted: bool
    verified_at: datetime | None
    # Record age breaks ties deterministically (R4): the oldest record (lowest id) wins.
    created_at: datetime | None = None
    is_system: bool = False


@dataclass(frozen=True, slots=True)
class PersonFacts:
    id: int
    kind: Kind
    email: str
    phones: tuple[PhoneFacts, ...]


@dataclass(frozen=True, slots=True)
class ConfigFacts:
    student_opted_in: bool
    staff_opted_in: bool
    default_type_code: str | None


@dataclass(frozen=True, slots=True)
class Route:
    channel: ChannelValue
    rule: RuleId
    explanation: str
    phone: PhoneFacts | None = None
    email: str = ""
    # Each phone that was passed over, with why (R6).
    excluded: tuple[tuple[PhoneFacts, str], ...] = ()

    @property
    def number(self) -> str:
        return self.phone.number if self.phone else ""

    @property
    def reason(self) -> str:
        """The failure-reason code when the text cannot go by SMS."""
        if self.channel == "sms":
            return ""
        return "NO_SMS_PHONE" if self.channel == "email" else "NO_EMAIL"


def _preference(phone: PhoneFacts) -> tuple[int, float, float, int]:
    """Sort key: verified before unverified, latest verified first, then oldest record (R4)."""
    verified = phone.verified_at
    created = phone.created_at
    return (
        0 if verified else 1,
        -verified.timestamp() if verified else 0.0,
        created.timestamp() if created else 0.0,
        phone.id,
    )


def _describe(phone: PhoneFacts) -> str:
    verified = (
        f"verified {phone.verified_at:%Y-%m-%d %H:%M}" if phone.verified_at else "never verified"
    )
    return f"{phone.number} ({phone.type_code}, {verified})"


def route(person: PersonFacts, config: ConfigFacts) -> Route:
    """Choose exactly one destination for a text to `person` (R1-R5), with the reasons (R6)."""
    # System (Twilio) numbers of staff are never destinations: they are senders.
    phones = sorted((p for p in person.phones if not p.is_system), key=_preference)
    excluded: list[tuple[PhoneFacts, str]] = []
    opted_in = config.student_opted_in if person.kind == "student" else config.staff_opted_in
    enabled: list[PhoneFacts] = []
    default: list[PhoneFacts] = []
    for phone in phones:
        if phone.deleted:
            excluded.append((phone, "deleted"))
        elif phone.sms_status == "disabled":
            excluded.append((phone, "SMS Disabled"))
        elif phone.sms_status == "enabled":
            enabled.append(phone)
        elif config.default_type_code is None or phone.type_code != config.default_type_code:
            excluded.append((phone, "SMS Default but not the default SMS phone type"))
        elif not opted_in:
            excluded.append((phone, f"SMS Default and {person.kind}s are opted out by default"))
        else:
            default.append(phone)

    if enabled:
        chosen, others, rule = enabled[0], enabled[1:] + default, "R2"
        why = "it is SMS Enabled"
        passed_over = "SMS Enabled phones win over SMS Default ones"
    elif default:
        chosen, others, rule = default[0], default[1:], "R3"
        why = (
            f"no phone is SMS Enabled, it is SMS Default with the default SMS phone type "
            f"({config.default_type_code}) and {person.kind}s are opted in by default"
        )
        passed_over = ""
    else:
        chosen = None
        others, rule, why, passed_over = [], "R5", "", ""

    if chosen is not None:
        for phone in others:
            if phone.sms_status == "default" and chosen.sms_status == "enabled":
                excluded.append((phone, passed_over))
            elif chosen.verified_at and not phone.verified_at:
                excluded.append((phone, "unverified; a verified phone wins"))
            elif chosen.verified_at and phone.verified_at:
                excluded.append((phone, "older verified date"))
            else:
                excluded.append((phone, "no verified dates; the oldest record wins"))
        tie = ""
        if others:
            tie = (
                "; it has the latest verified date"
                if chosen.verified_at
                else "; none is verified, so the oldest record is used every time"
            )
        text = f"Text to {_describe(chosen)}: {why}{tie} ({rule})."
        return Route(
            channel="sms",
            rule=rule,  # type: ignore[arg-type]
            phone=chosen,
            explanation=_with_exclusions(text, excluded),
            excluded=tuple(excluded),
        )

    if person.email:
        text = f"Email to {person.email}: no phone can receive texts (R5)."
        return Route(
            channel="email",
            rule="R5",
            email=person.email,
            explanation=_with_exclusions(text, excluded),
            excluded=tuple(excluded),
        )
    text = "Undeliverable: no phone can receive texts and there is no email address (R5)."
    return Route(
        channel="none",
        rule="R5",
        explanation=_with_exclusions(text, excluded),
        excluded=tuple(excluded),
    )


def _with_exclusions(text: str, excluded: list[tuple[PhoneFacts, str]]) -> str:
    if not excluded:
        return text
    passed = "; ".join(f"{p.number}: {why}" for p, why in excluded)
    return f"{text} Passed over: {passed}."
