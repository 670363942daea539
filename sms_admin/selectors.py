"""Reads for the SMS Configuration pages: usage meters, the sender pool, the Phone Number Usage
grid, the Twilio health line and the change history (C6, C7, C9, C10, S8)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Exists, F, Func, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from people.models import Person, PhoneType, Role, RoleKind
from sms_admin.models import (
    ConfigurationChange,
    DefaultStatus,
    OptOutScope,
    PolicyAction,
    SenderAssignment,
    SenderNumber,
    SmsConfiguration,
    WebhookKind,
    WebhookReceipt,
)


def sender_assignments_active() -> QuerySet[SenderAssignment]:
    return SenderAssignment.objects.filter(released_at__isnull=True)


def sender_assignments_active_count() -> int:
    return sender_assignments_active().count()


def sender_numbers_free() -> QuerySet[SenderNumber]:
    """Pool numbers nobody holds now, in the order a first send takes them (S2)."""
    held = sender_assignments_active().filter(sender_number=OuterRef("pk"))
    return SenderNumber.objects.filter(~Exists(held)).order_by("id")


def sender_number_would_be_assigned(person_id: int) -> bool:
    """Whether a first send by the person `person_id` would be given a pool number now (S2):
    they hold none, are not a student (P1), the active assignments are fewer than the phone
    number limit (C7) and a pool number is free. Reads only, 1 query: the person page
    says so without assigning anything; the send itself assigns (pool.sender_number_ensure,
    under the pool's lock), so a concurrent first send may take the last free number first.
    """
    roles = Person.roles.through.objects.filter(person_id=person_id)
    student = Exists(roles.filter(role__kind=RoleKind.STUDENT)) & ~Exists(
        roles.filter(role__kind=RoleKind.STAFF)
    )
    row = (
        Person.objects.filter(pk=person_id)
        .annotate(
            _holds=Exists(sender_assignments_active().filter(person_id=person_id)),
            _student=student,
            _free=Exists(sender_numbers_free()),
            # COUNT(*) as a plain function: one row, no GROUP BY.
            _active=Subquery(
                sender_assignments_active()
                .order_by()
                .annotate(n=Func(F("pk"), function="COUNT"))
                .values("n")
            ),
            _limit=Subquery(SmsConfiguration.objects.filter(pk=1).values("sms_phone_number_limit")),
        )
        .values("_holds", "_student", "_free", "_active", "_limit")
        .first()
    )
    if row is None:
        return False
    limit = row["_limit"]
    if limit is None:  # no configuration row yet: the model's default limit
        limit = SmsConfiguration._meta.get_field("sms_phone_number_limit").get_default()
    return (
        not row["_holds"]
        and not row["_student"]
        and bool(row["_free"])
        and (row["_active"] or 0) < limit
    )


def held_by_student() -> Q:
    """For an assignment (or any row with `person_id`): its person is a student (P1), holding
    the student role and no staff role."""
    roles = Person.roles.through.objects.filter(person_id=OuterRef("person_id"))
    return Q(Exists(roles.filter(role__kind=RoleKind.STUDENT))) & ~Q(
        Exists(roles.filter(role__kind=RoleKind.STAFF))
    )


def sender_assignment_grid(
    search: str = "", *, students_only: bool = False
) -> QuerySet[SenderAssignment]:
    """The Phone Number Usage grid: active assignments with person and number, newest first,
    each with `held_by_student` (S9: students may not hold one); `students_only` keeps those.

    One query per page whatever the number of rows (everything is joined).
    """
    rows = (
        sender_assignments_active()
        .select_related("person", "sender_number")
        .annotate(held_by_student=held_by_student())
    )
    if students_only:
        rows = rows.filter(held_by_student=True)
    for word in search.split():
        rows = rows.filter(
            Q(person__first_name__icontains=word)
            | Q(person__last_name__icontains=word)
            | Q(person__src_system_id__icontains=word)
            | Q(sender_number__number__icontains=word)
        )
    return rows.order_by("-assigned_at", "-id")


def sender_pool() -> QuerySet[SenderNumber]:
    """The provisioned numbers with their active holder (two queries)."""
    active = sender_assignments_active().select_related("person")
    return SenderNumber.objects.prefetch_related(
        Prefetch("assignments", queryset=active, to_attr="active_assignments")
    ).order_by("number")


def configuration_history() -> QuerySet[ConfigurationChange]:
    return ConfigurationChange.objects.select_related("changed_by").order_by("-changed_at", "-id")


# The change history's names for what changed (C10), as the tabs call them.
SETTING_LABELS: dict[str, str] = {
    "student_sms_default": "Student SMS default status",
    "staff_sms_default": "Staff SMS default status",
    "default_sms_phone_type": "Default SMS phone type",
    "permitted_roles": "Roles that can send SMS messages",
    "opt_out_scope": "Opt-out scope",
    "sms_max_length": "Maximum text length (smsMaxLength)",
    "reply_notification_subject": "Reply-notification email subject",
    "reply_notification_body": "Reply-notification email body",
    "sms_message_limit": "SMS message limit per month",
    "sms_phone_number_limit": "SMS phone number limit",
    "help_text": "Answer to HELP",
    "advanced_opt_out": "Twilio Advanced Opt-Out",
    "reply_window_days": "Reply window (days)",
    "number_quarantine_days": "Days a released number rests",
    "unanswered_reply_hours": "Unanswered replies digest after (business hours)",
    "quiet_hours_start": "Quiet hours start",
    "quiet_hours_end": "Quiet hours end",
    "sender_segments_per_second": "Segments a second per sender number",
    "sender_number": "Sender number pool",
}
NO_VALUE = "(none)"
_CHOICES: dict[str, dict[str, str]] = {
    "student_sms_default": dict(DefaultStatus.choices),
    "staff_sms_default": dict(DefaultStatus.choices),
    "opt_out_scope": dict(OptOutScope.choices),
}
_BOOLEANS = {"advanced_opt_out"}


@dataclass(frozen=True)
class HistoryLine:
    """One recorded change as the history tab shows it: the setting and values in words."""

    changed_at: datetime
    changed_by: str
    setting: str
    old: str
    new: str


def _setting_label(field: str) -> str:
    if field in SETTING_LABELS:
        return SETTING_LABELS[field]
    if field.startswith("error_code_policy "):
        return f"Policy for Twilio error {field.removeprefix('error_code_policy ')}"
    return field.replace("_", " ").capitalize()


def _value_in_words(field: str, value: str, names: dict[str, dict[str, str]]) -> str:
    if value == "":
        return NO_VALUE
    if field in _CHOICES:
        return _CHOICES[field].get(value, value)
    if field in _BOOLEANS:
        return {"True": "Yes", "False": "No"}.get(value, value)
    if field == "permitted_roles":
        return ", ".join(names["roles"].get(code, code) for code in value.split(", "))
    if field == "default_sms_phone_type":
        return names["types"].get(value, value)
    if field.startswith("error_code_policy "):
        action, _, rest = value.partition(" / ")
        return f"{dict(PolicyAction.choices).get(action, action)} / {rest}" if rest else value
    return value


def configuration_history_lines(changes: Iterable[ConfigurationChange]) -> list[HistoryLine]:
    """`changes` (a page of the history) in words: labels for settings, the choices' labels,
    role and phone type names for their codes (two queries, whatever the page's size)."""
    rows = list(changes)
    codes: dict[str, set[str]] = {"roles": set(), "types": set()}
    for row in rows:
        for value in (row.old_value, row.new_value):
            if row.field == "permitted_roles" and value:
                codes["roles"].update(value.split(", "))
            elif row.field == "default_sms_phone_type" and value:
                codes["types"].add(value)
    names = {
        "roles": dict(Role.objects.filter(code__in=codes["roles"]).values_list("code", "name"))
        if codes["roles"]
        else {},
        "types": dict(PhoneType.objects.filter(code__in=codes["types"]).values_list("code", "name"))
        if codes["types"]
        else {},
    }
    return [
        HistoryLine(
            changed_at=row.changed_at,
            changed_by=row.changed_by.get_username() if row.changed_by else "operator",
            setting=_setting_label(row.field),
            old=_value_in_words(row.field, row.old_value, names),
            new=_value_in_words(row.field, row.new_value, names),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class TwilioHealth:
    sandbox: bool
    credentials_configured: bool
    account_sid: str
    messaging_service_sid: str
    last_status_callback_at: datetime | None

    @property
    def summary(self) -> str:
        if self.sandbox:
            credentials = "Local sandbox (no Twilio credentials set)"
        elif self.credentials_configured:
            credentials = "Credentials set"
        else:
            credentials = "Credentials malformed: TWILIO_ACCOUNT_SID must start with AC"
        if self.last_status_callback_at is None:
            callback = "no status callback received yet"
        else:
            when = timezone.localtime(self.last_status_callback_at)
            callback = f"last status callback received {when:%Y-%m-%d %H:%M %Z}"
        return f"{credentials}; {callback}."


def webhook_receipt_last(*, kind: str) -> datetime | None:
    """When a correctly signed webhook of `kind` (WebhookKind) last arrived, or None if never."""
    return (
        WebhookReceipt.objects.filter(kind=kind).values_list("last_received_at", flat=True).first()
    )


def twilio_health() -> TwilioHealth:
    """The Twilio health line (C9). The auth token is never read into the page.

    The last status callback is when the status webhook last accepted a signed request
    (WebhookReceipt, written by the webhook at most every 10 s per process), whatever it said.
    """
    sid = settings.TWILIO_ACCOUNT_SID
    return TwilioHealth(
        sandbox=bool(settings.TWILIO_SANDBOX),
        credentials_configured=sid.startswith("AC") and len(sid) == 34,
        account_sid=sid,
        messaging_service_sid=settings.TWILIO_MESSAGING_SERVICE_SID,
        last_status_callback_at=webhook_receipt_last(kind=WebhookKind.STATUS),
    )


def permitted_role_ids() -> frozenset[int]:
    """The ids of the roles whose holders may send texts (C4); one query."""
    through = SmsConfiguration.permitted_roles.through
    return frozenset(through.objects.values_list("role_id", flat=True))


def person_may_send(person: Person | None, *, config: SmsConfiguration | None = None) -> bool:
    """Whether `person` holds at least one permitted role (C4, S1); one query with `config`."""
    if person is None:
        return False
    from sms_admin.services import configuration_get

    return (config or configuration_get()).permitted_roles.filter(people=person).exists()
