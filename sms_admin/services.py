"""Writes to the SMS configuration; every change is recorded (C10)."""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from people.models import PhoneType, Role
from sms_admin import notifications
from sms_admin.models import (
    TWILIO_MAX_BODY,
    ConfigurationChange,
    SenderNumber,
    SmsConfiguration,
    WebhookReceipt,
)

# Limits the vendor provisions: only the operator (a superuser) changes them (C7).
PROVISIONED_FIELDS = frozenset({"sms_message_limit", "sms_phone_number_limit"})


def configuration_get() -> SmsConfiguration:
    config, _ = SmsConfiguration.objects.get_or_create(pk=1)
    return config


def _display(value: Any) -> str:
    if isinstance(value, PhoneType | Role):
        return value.code
    if isinstance(value, list | tuple | set):
        return ", ".join(sorted(_display(v) for v in value))
    return "" if value is None else str(value)


def configuration_validate(changes: dict[str, Any]) -> None:
    """:raises ValidationError: with a message per field."""
    errors: dict[str, str] = {}
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
            raise PermissionDenied(
                "The SMS message and phone number limits are provisioned by the operator; "
                "ask a superuser to change them."
            )
    configuration_validate(changes)
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


def sender_number_add(*, number: str) -> SenderNumber:
    from people import phone_numbers

    normalized = phone_numbers.phone_number_normalize(number)
    if SenderNumber.objects.filter(number=normalized).exists():
        raise ValidationError({"number": f"{normalized} is already in the pool."})
    return SenderNumber.objects.create(number=normalized)


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
