"""Writes to the SMS configuration; every change is recorded (C10)."""

from __future__ import annotations

import time
from datetime import time as clock_time
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from people import phone_numbers
from people.models import SYSTEM_PHONE_TYPE_CODE, PhoneType, Role, RoleKind
from sms_admin import notifications
from sms_admin.models import (
    MAX_QUARANTINE_DAYS,
    MAX_SEGMENTS_PER_SECOND,
    POSITIVE_INT_MAX,
    SEGMENTS_PER_SECOND_ERROR,
    TWILIO_MAX_BODY,
    ConfigurationChange,
    ErrorCodePolicy,
    SenderNumber,
    SmsConfiguration,
    WebhookReceipt,
)

# Whole-number settings stored in PostgreSQL integer columns.
INTEGER_FIELDS = frozenset(
    {"sms_message_limit", "sms_phone_number_limit", "reply_window_days", "unanswered_reply_hours"}
)

# Limits the vendor provisions: only the operator (a superuser) changes them (C7).
PROVISIONED_FIELDS = frozenset({"sms_message_limit", "sms_phone_number_limit"})
PROVISIONED_REFUSAL = (
    "The SMS message and phone number limits are provisioned by the operator; "
    "ask a superuser to change them."
)


# Texts of several lines: stored with LF line breaks whatever sent them (a browser's textarea
# posts CRLF, an API client usually LF), so a save of what is shown changes nothing.
MULTILINE_FIELDS = frozenset({"reply_notification_body", "help_text"})


def line_endings_normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def configuration_get() -> SmsConfiguration:
    config, _ = SmsConfiguration.objects.get_or_create(pk=1)
    return config


def _display(value: Any) -> str:
    if isinstance(value, PhoneType | Role):
        return value.code
    if isinstance(value, list | tuple | set):
        return ", ".join(sorted(_display(v) for v in value))
    if isinstance(value, clock_time):
        return f"{value:%H:%M}"
    return "" if value is None else str(value)


QUIET_HOURS_EQUAL = (
    "Start and end are the same time, which would mean no quiet hours; to have none, leave "
    "both empty."
)


def configuration_validate(
    changes: dict[str, Any], current: SmsConfiguration | None = None
) -> None:
    """:raises ValidationError: with a message per field. `current`: the stored configuration,
    for rules joining a changed field with one left as it is."""
    errors: dict[str, str] = {}
    ends = ("quiet_hours_start", "quiet_hours_end")
    start, end = (changes[f] if f in changes else getattr(current, f, None) for f in ends)
    if start is not None and start == end:
        errors.update({f: QUIET_HOURS_EQUAL for f in ends if f in changes})
    for name in ("reply_notification_subject", "reply_notification_body"):
        if name in changes:
            try:
                notifications.template_validate(changes[name])
            except ValidationError as exc:
                errors[name] = exc.messages[0]
    subject = changes.get("reply_notification_subject")
    if isinstance(subject, str) and ("\n" in subject or "\r" in subject):
        # An email subject is one line; a line break would fail every send (C5: refuse at save).
        errors["reply_notification_subject"] = "The subject must be a single line."
    if "sms_max_length" in changes and not 1 <= int(changes["sms_max_length"]) <= TWILIO_MAX_BODY:
        errors["sms_max_length"] = (
            f"Choose a length from 1 to {TWILIO_MAX_BODY} characters (Twilio's maximum)."
        )
    help_answer = changes.get("help_text")
    if isinstance(help_answer, str) and len(help_answer) > TWILIO_MAX_BODY:
        # Sent as the answer to every HELP: Twilio refuses a longer text, so every answer fails.
        errors["help_text"] = (
            f"The answer to HELP is {len(help_answer):,} characters; Twilio sends at most "
            f"{TWILIO_MAX_BODY:,} in one text. Shorten it."
        )
    type_ = changes.get("default_sms_phone_type")
    if isinstance(type_, PhoneType) and type_.code == SYSTEM_PHONE_TYPE_CODE:
        errors["default_sms_phone_type"] = (
            "The System type marks staff members' sender numbers; choose the type of "
            "students' phones (usually Cell)."
        )
    students = [r.code for r in changes.get("permitted_roles") or () if r.kind == RoleKind.STUDENT]
    if students:
        errors["permitted_roles"] = (
            f"Only staff roles may send texts; {', '.join(students)} is a student role."
        )
    for name in INTEGER_FIELDS & changes.keys():
        if not 0 <= int(changes[name]) <= POSITIVE_INT_MAX:
            errors[name] = f"Enter a whole number from 0 to {POSITIVE_INT_MAX:,}."
    if (
        "number_quarantine_days" in changes
        and not 0 <= int(changes["number_quarantine_days"]) <= MAX_QUARANTINE_DAYS
    ):
        errors["number_quarantine_days"] = (
            f"Enter a number of days from 0 to {MAX_QUARANTINE_DAYS}."
        )
    if "sender_segments_per_second" in changes and not (
        0 <= int(changes["sender_segments_per_second"]) <= MAX_SEGMENTS_PER_SECOND
    ):
        errors["sender_segments_per_second"] = SEGMENTS_PER_SECOND_ERROR
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def configuration_update(*, actor: Any, **changes: Any) -> SmsConfiguration:
    """Apply `changes` to the one configuration row and record each changed value.

    :raises PermissionDenied: when a non-superuser changes a provisioned limit.
    :raises ValidationError: on an invalid value (nothing is saved).
    """
    config = SmsConfiguration.objects.select_for_update().get(pk=configuration_get().pk)
    # actor None is the operator at the command line (manage.py); people need superuser.
    is_operator = actor is None or bool(getattr(actor, "is_superuser", False))
    for name in PROVISIONED_FIELDS & changes.keys():
        if changes[name] != getattr(config, name) and not is_operator:
            raise PermissionDenied(PROVISIONED_REFUSAL)
    for name in MULTILINE_FIELDS & changes.keys():
        if isinstance(changes[name], str):
            changes[name] = line_endings_normalize(changes[name])
    configuration_validate(changes, config)
    records = []
    for name, value in changes.items():
        if name == "permitted_roles":
            old = _display(list(config.permitted_roles.all()))
            new = _display(list(value))
            if old != new:
                config.permitted_roles.set(list(value))
        else:
            old = _display(getattr(config, name))
            new = _display(value)
            setattr(config, name, value)
        if old != new:
            records.append(
                ConfigurationChange(
                    field=name,
                    old_value=old,
                    new_value=new,
                    changed_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
            )
    config.save()
    ConfigurationChange.objects.bulk_create(records)
    return config


def configuration_change_record(*, actor: Any, field: str, old: str, new: str) -> None:
    """Record one change of configuration that is not a field of the row (C10): the sender
    pool, the error-code policy table."""
    ConfigurationChange.objects.create(
        field=field,
        old_value=old,
        new_value=new,
        changed_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


@transaction.atomic
def sender_number_add(*, number: str, actor: Any = None) -> SenderNumber:
    """Add a provisioned number to the pool, recorded in the change history (C10).

    :raises ValidationError: on an invalid number or one already in the pool.
    """
    normalized = phone_numbers.phone_number_normalize(number)
    if SenderNumber.objects.filter(number=normalized).exists():
        raise ValidationError({"number": f"{normalized} is already in the pool."})
    sender = SenderNumber.objects.create(number=normalized)
    configuration_change_record(actor=actor, field="sender_number", old="", new=normalized)
    return sender


def _policy_display(policy: ErrorCodePolicy) -> str:
    return f"{policy.action} / {policy.failure_reason} ({policy.meaning})"


@transaction.atomic
def error_code_policy_save(*, policy: ErrorCodePolicy, actor: Any) -> ErrorCodePolicy:
    """Save an administrator's edit of one T3 policy row, recorded in the change history."""
    before = ErrorCodePolicy.objects.filter(pk=policy.pk).first() if policy.pk else None
    policy.save()
    old = _policy_display(before) if before else ""
    if old != _policy_display(policy):
        configuration_change_record(
            actor=actor,
            field=f"error_code_policy {policy.code}",
            old=old,
            new=_policy_display(policy),
        )
    return policy


@transaction.atomic
def error_code_policy_delete(*, policy: ErrorCodePolicy, actor: Any) -> None:
    configuration_change_record(
        actor=actor, field=f"error_code_policy {policy.code}", old=_policy_display(policy), new=""
    )
    policy.delete()


# --- when Twilio's webhooks last arrived (C9's health line) ------------------------------------

# A busy webhook should not write the same row on every request: each process writes at most
# once per interval, so the time shown is at most this many seconds old.
WEBHOOK_RECEIPT_WRITE_INTERVAL_SECONDS = 10.0
_receipts_written: dict[str, float] = {}


def webhook_receipt_record(*, kind: str, force: bool = False) -> bool:
    """Note that a correctly signed webhook of `kind` (WebhookKind) arrived now; called by the
    webhook views once the request is verified. Returns whether the row was written."""
    monotonic = time.monotonic()
    previous = _receipts_written.get(kind)
    interval = WEBHOOK_RECEIPT_WRITE_INTERVAL_SECONDS
    if not force and previous is not None and monotonic - previous < interval:
        return False
    _receipts_written[kind] = monotonic
    now = timezone.now()
    if WebhookReceipt.objects.filter(kind=kind).update(last_received_at=now):
        return True
    try:
        with transaction.atomic():
            WebhookReceipt.objects.create(kind=kind, last_received_at=now)
    except IntegrityError:
        WebhookReceipt.objects.filter(kind=kind).update(last_received_at=now)
    return True
