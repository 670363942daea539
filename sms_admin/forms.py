"""The three tabs of the SMS Configuration page, each its own small form (C1-C8)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from people.models import SYSTEM_PHONE_TYPE_CODE, PhoneType, Role, RoleKind
from sms_admin.models import (
    MAX_QUARANTINE_DAYS,
    MAX_SEGMENTS_PER_SECOND,
    POSITIVE_INT_MAX,
    SEGMENTS_PER_SECOND_ERROR,
    TWILIO_MAX_BODY,
    DefaultStatus,
    OptOutScope,
    SmsConfiguration,
)


class GeneralSettingsForm(forms.Form):
    student_sms_default = forms.ChoiceField(
        label="Student SMS default status",
        choices=DefaultStatus.choices,
        widget=forms.RadioSelect,
        help_text="Whether students may be texted on an SMS Default phone.",
    )
    staff_sms_default = forms.ChoiceField(
        label="Staff SMS default status",
        choices=DefaultStatus.choices,
        widget=forms.RadioSelect,
        help_text="Whether staff may be texted on an SMS Default phone.",
    )
    default_sms_phone_type = forms.ModelChoiceField(
        label="Default SMS phone type",
        queryset=PhoneType.objects.exclude(code=SYSTEM_PHONE_TYPE_CODE),
        required=False,
        empty_label="(none: only SMS Enabled phones are texted)",
        help_text="SMS Default phones of this type can receive texts.",
    )
    permitted_roles = forms.ModelMultipleChoiceField(
        label="Roles that can send SMS messages",
        queryset=Role.objects.filter(kind=RoleKind.STAFF),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Holders of at least one of these staff roles may send texts. Anyone may reply.",
    )
    opt_out_scope = forms.ChoiceField(
        label="Opt-out scope",
        choices=OptOutScope.choices,
        widget=forms.RadioSelect,
        help_text="Which phones a STOP disables.",
    )
    sms_max_length = forms.IntegerField(
        label="smsMaxLength (characters)",
        min_value=1,
        max_value=TWILIO_MAX_BODY,
        help_text=f"The longest text staff may send; Twilio's maximum is {TWILIO_MAX_BODY}.",
    )
    quiet_hours_start = forms.TimeField(
        label="Quiet hours start",
        required=False,
        input_formats=["%H:%M"],
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        help_text="Texts that would leave between start and end (institution time zone) wait "
        "until the end; replies to a person who texted in the last 2 hours go at once. Leave "
        "either empty for no quiet hours.",
    )
    quiet_hours_end = forms.TimeField(
        label="Quiet hours end",
        required=False,
        input_formats=["%H:%M"],
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        help_text="May be earlier than the start: 21:00 to 08:00 spans the night.",
    )
    # Asked for only when no role is checked: saving that stops every staff member's texts.
    confirm_no_senders = forms.BooleanField(
        label="Yes, save with no role: nobody will be able to send texts",
        required=False,
    )

    NO_SENDERS = (
        "No role is checked, so nobody will be able to send texts. Check at least one role, "
        "or confirm below and save again."
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        roles = cleaned.get("permitted_roles")
        if roles is not None and not roles and not cleaned.get("confirm_no_senders"):
            self.add_error(None, forms.ValidationError(self.NO_SENDERS, code="no_senders"))
        return cleaned

    @property
    def asks_to_confirm(self) -> bool:
        """The save was held back because no role is checked: show the confirmation."""
        return self.has_error(NON_FIELD_ERRORS, "no_senders") or bool(
            self.is_bound and self.data.get("confirm_no_senders")
        )

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "confirm_no_senders"}

    @classmethod
    def initial_from(cls, config: SmsConfiguration) -> dict[str, Any]:
        return {
            "student_sms_default": config.student_sms_default,
            "staff_sms_default": config.staff_sms_default,
            "default_sms_phone_type": config.default_sms_phone_type,
            "permitted_roles": list(config.permitted_roles.all()),
            "opt_out_scope": config.opt_out_scope,
            "sms_max_length": config.sms_max_length,
            "quiet_hours_start": config.quiet_hours_start,
            "quiet_hours_end": config.quiet_hours_end,
        }


class EmailNotificationsForm(forms.Form):
    reply_notification_subject = forms.CharField(label="Subject", max_length=255)
    # Kept as typed, line breaks and a last empty line included (stored with LF line breaks).
    reply_notification_body = forms.CharField(
        label="Body", strip=False, widget=forms.Textarea(attrs={"rows": 9})
    )

    @classmethod
    def initial_from(cls, config: SmsConfiguration) -> dict[str, Any]:
        return {
            "reply_notification_subject": config.reply_notification_subject,
            "reply_notification_body": config.reply_notification_body,
        }


class LimitsForm(forms.Form):
    """The provisioned limits (C6, C7): editable by superusers, read-only for other admins."""

    sms_message_limit = forms.IntegerField(
        label="SMS message limit per month",
        min_value=0,
        max_value=POSITIVE_INT_MAX,
        error_messages={"min_value": "The limit cannot be negative; enter 0 or more."},
    )
    sms_phone_number_limit = forms.IntegerField(
        label="SMS phone number limit",
        min_value=0,
        max_value=POSITIVE_INT_MAX,
        error_messages={"min_value": "The limit cannot be negative; enter 0 or more."},
    )

    def __init__(self, *args: Any, editable: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not editable:
            for field in self.fields.values():
                field.disabled = True

    @classmethod
    def initial_from(cls, config: SmsConfiguration) -> dict[str, Any]:
        return {
            "sms_message_limit": config.sms_message_limit,
            "sms_phone_number_limit": config.sms_phone_number_limit,
        }


QUARANTINE_DAYS_ERROR = f"Enter a number of days from 0 to {MAX_QUARANTINE_DAYS}."


class NumberReuseForm(forms.Form):
    """How long a released sender number rests before it is given to someone else."""

    number_quarantine_days = forms.IntegerField(
        label="Days a released number rests",
        min_value=0,
        max_value=MAX_QUARANTINE_DAYS,
        error_messages={
            "min_value": QUARANTINE_DAYS_ERROR,
            "max_value": QUARANTINE_DAYS_ERROR,
            "invalid": QUARANTINE_DAYS_ERROR,
            "required": QUARANTINE_DAYS_ERROR,
        },
        help_text=(
            "When a number is taken from a staff member, students may still answer their "
            "texts; those answers keep reaching that staff member. The number waits this many "
            "days before it is given to someone new, unless no other number is free. "
            "0 gives it out again at once."
        ),
    )

    @classmethod
    def initial_from(cls, config: SmsConfiguration) -> dict[str, Any]:
        return {"number_quarantine_days": config.number_quarantine_days}


class PacingForm(forms.Form):
    """How fast each sender number's texts leave (pacing)."""

    sender_segments_per_second = forms.IntegerField(
        label="Segments a second per sender number",
        min_value=0,
        max_value=MAX_SEGMENTS_PER_SECOND,
        error_messages={
            "min_value": SEGMENTS_PER_SECOND_ERROR,
            "max_value": SEGMENTS_PER_SECOND_ERROR,
            "invalid": SEGMENTS_PER_SECOND_ERROR,
            "required": SEGMENTS_PER_SECOND_ERROR,
        },
        help_text=(
            "Twilio sends from a staff member's number about 1 segment a second (a text of up "
            "to 160 plain characters is 1 segment) and gives up on texts still waiting after "
            "about 4 hours. So a large cohort leaves a little at a time, never faster than this; "
            "at 1, a cohort of 3,600 one-segment texts takes an hour. Keep 1 for ordinary "
            "numbers; enter 0 only if Twilio paces the texts itself (a Messaging Service or "
            "short code)."
        ),
    )

    @classmethod
    def initial_from(cls, config: SmsConfiguration) -> dict[str, Any]:
        return {"sender_segments_per_second": config.sender_segments_per_second}


class SenderNumberForm(forms.Form):
    number = forms.CharField(
        label="Add a provisioned number",
        max_length=32,
        error_messages={"required": "Enter a phone number to add."},
    )
