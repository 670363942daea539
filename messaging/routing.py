"""Where one text to one person goes (R1-R6): pure rules, no ORM, settings, clock or I/O.

Facts come in as frozen dataclasses built by messaging.selectors; a `Route` comes out with the
channel, the chosen phone, the rule that decided and an explanation a person can read.

The rules, in order (seed: "Which phone number is used when sending an SMS text message"):

- R1 deleted and SMS Disabled phones are never texted; system (Twilio) numbers neither, they are
  senders (P4).
- R2 any SMS Enabled phone, whatever its type: the one with the latest verified date.
- R3 otherwise an SMS Default phone of the default SMS phone type (C3), only when the person's
  kind (P1) is opted in by default (C1/C2): the one with the latest verified date.
- R4 among the candidates of R2 or R3 a verified phone beats an unverified one; when none is
  verified the oldest record is used, so the choice is the same every time. `rule` is "R4" when
  that fallback decided between several unverified candidates.
- R5 no phone qualifies: email to the person's address; with no address, nothing (undeliverable).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Kind = Literal["student", "staff"]
SmsStatusValue = Literal["default", "enabled", "disabled"]
ChannelValue = Literal["sms", "email", "none"]
RuleId = Literal["R2", "R3", "R4", "R5"]

# Failure-reason codes (messaging.models.FailureReason) for routes that are not SMS.
REASON_NO_SMS_PHONE = "NO_SMS_PHONE"
REASON_NO_EMAIL = "NO_EMAIL"

_KIND_PLURAL: dict[str, str] = {"student": "students", "staff": "staff"}


@dataclass(frozen=True, slots=True)
class PhoneFacts:
    id: int
    number: str
    type_code: str
    sms_status: SmsStatusValue
    deleted: bool
    verified_at: datetime | None
    # Record age breaks ties deterministically (R4): the oldest record wins, then the lowest id.
    created_at: datetime | None = None
    is_system: bool = False


@dataclass(frozen=True, slots=True)
class PersonFacts:
    id: int
    kind: Kind
    email: str
    phones: tuple[PhoneFacts, ...]
    # Not routing facts: read in the same query for the merge fields of a text's body.
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True, slots=True)
class ConfigFacts:
    student_opted_in: bool
    staff_opted_in: bool
    default_type_code: str | None


@dataclass(frozen=True, slots=True)
class Route:
    """One destination for one text: an SMS phone, an email address, or nothing.

    `excluded` lists every other phone of the person with the reason it was passed over (R6),
    in a fixed order (by phone id) whatever the order the phones came in.
    """

    channel: ChannelValue
    rule: RuleId
    explanation: str
    phone: PhoneFacts | None = None
    email: str = ""
    excluded: tuple[tuple[PhoneFacts, str], ...] = ()

    @property
    def number(self) -> str:
        return self.phone.number if self.phone else ""

    @property
    def reason(self) -> str:
        """The failure-reason code when the text cannot go by SMS ("" when it can)."""
        if self.channel == "sms":
            return ""
        return REASON_NO_SMS_PHONE if self.channel == "email" else REASON_NO_EMAIL


def _preference(phone: PhoneFacts) -> tuple[int, float, float, int]:
    """Sort key: verified first, latest verified date first, then the oldest record (R4)."""
    verified = phone.verified_at
    created = phone.created_at
    return (
        0 if verified else 1,
        -verified.timestamp() if verified else 0.0,
        created.timestamp() if created else 0.0,
        phone.id,
    )


def _when(moment: datetime) -> str:
    # Shown in the zone the datetime carries (the institution's for one person, UTC in bulk),
    # and the zone is named so nobody misreads it.
    return f"{moment:%Y-%m-%d %H:%M %Z}".rstrip()


def _describe(phone: PhoneFacts) -> str:
    verified = f"verified {_when(phone.verified_at)}" if phone.verified_at else "never verified"
    return f"{phone.number} ({phone.type_code}, {verified})"


def _unqualified_reason(
    phone: PhoneFacts, person: PersonFacts, config: ConfigFacts, opted_in: bool
) -> str:
    """Why `phone` can never be texted for this person (R1, R3), or "" when it is a candidate."""
    if phone.is_system:
        return "a system (Twilio) number, used to send, never texted"
    if phone.deleted:
        return "deleted"
    if phone.sms_status == "disabled":
        return "SMS Disabled"
    if phone.sms_status == "enabled":
        return ""
    if config.default_type_code is None:
        return "SMS Default, but no default SMS phone type is configured"
    if phone.type_code != config.default_type_code:
        return (
            f"SMS Default, but its type ({phone.type_code}) is not the default SMS phone type "
            f"({config.default_type_code})"
        )
    if not opted_in:
        return f"SMS Default, but {_KIND_PLURAL[person.kind]} are opted out by default"
    return ""


def _passed_over_reason(phone: PhoneFacts, chosen: PhoneFacts) -> str:
    """Why the candidate `phone` lost to `chosen` (R2-R4)."""
    if phone.sms_status == "default" and chosen.sms_status == "enabled":
        return "SMS Default; an SMS Enabled phone comes first"
    if chosen.verified_at and not phone.verified_at:
        return "unverified; a verified phone comes first"
    if chosen.verified_at and phone.verified_at:
        return f"older verified date ({_when(phone.verified_at)})"
    return "newer record; with no verified dates the oldest record is used every time"


def route(person: PersonFacts, config: ConfigFacts) -> Route:
    """Choose exactly one destination for a text to `person` (R1-R5), with the reasons (R6).

    Deterministic: the same facts give the same route whatever the order of `person.phones`.
    """
    opted_in = config.student_opted_in if person.kind == "student" else config.staff_opted_in
    excluded: list[tuple[PhoneFacts, str]] = []
    enabled: list[PhoneFacts] = []
    default: list[PhoneFacts] = []
    for phone in person.phones:
        why_not = _unqualified_reason(phone, person, config, opted_in)
        if why_not:
            excluded.append((phone, why_not))
        elif phone.sms_status == "enabled":
            enabled.append(phone)
        else:
            default.append(phone)

    rule: RuleId
    if enabled:
        tier, rule = enabled, "R2"
        why = "it is SMS Enabled"
    elif default:
        tier, rule = default, "R3"
        why = (
            f"no phone is SMS Enabled; it is SMS Default with the default SMS phone type "
            f"({config.default_type_code}) and {_KIND_PLURAL[person.kind]} are opted in by default"
        )
    else:
        tier = []

    if tier:
        if len(tier) > 1:
            tier.sort(key=_preference)
        chosen = tier[0]
        for phone in tier[1:] + (default if tier is enabled else []):
            excluded.append((phone, _passed_over_reason(phone, chosen)))
        cited: str = rule
        if len(tier) > 1:
            if chosen.verified_at:
                why += "; it has the latest verified date"
            else:
                # R4 decided: nothing is verified, so the oldest record, the same every time.
                why += "; none is verified, so the oldest record is used every time"
                rule, cited = "R4", f"{rule}, R4"
        text = f"Text to {_describe(chosen)}: {why} ({cited})."
        return _route("sms", rule, text, excluded, phone=chosen)

    email = person.email.strip()
    if email:
        text = f"Email to {email}: no phone can receive texts (R5)."
        return _route("email", "R5", text, excluded, email=email)
    text = "Undeliverable: no phone can receive texts and there is no email address (R5)."
    return _route("none", "R5", text, excluded)


def _route(
    channel: ChannelValue,
    rule: RuleId,
    text: str,
    excluded: list[tuple[PhoneFacts, str]],
    *,
    phone: PhoneFacts | None = None,
    email: str = "",
) -> Route:
    if len(excluded) > 1:
        excluded.sort(key=lambda item: item[0].id)
    if excluded:
        text += " Passed over: " + "; ".join(f"{p.number}: {why}" for p, why in excluded) + "."
    elif phone is None:
        text += " The person has no phone."
    return Route(
        channel=channel,
        rule=rule,
        explanation=text,
        phone=phone,
        email=email,
        excluded=tuple(excluded),
    )
