"""REST representations of the SMS configuration (`sms-configuration/`), phone and SMS
usage, and the sender-number pool."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from config.serializers import StrictJSON
from people.models import PhoneType, Role
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


class SmsConfigurationSerializer(StrictJSON, serializers.ModelSerializer[SmsConfiguration]):
    student_sms_default = serializers.ChoiceField(choices=DefaultStatus.choices)
    staff_sms_default = serializers.ChoiceField(choices=DefaultStatus.choices)
    opt_out_scope = serializers.ChoiceField(choices=OptOutScope.choices)
    default_sms_phone_type = serializers.SlugRelatedField(
        slug_field="code",
        queryset=PhoneType.objects.all(),
        allow_null=True,
        error_messages={"does_not_exist": "Unknown phone type code '{value}'."},
    )
    permitted_roles = serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        queryset=Role.objects.all(),
        error_messages={"does_not_exist": "Unknown role code '{value}'."},
    )
    # Bounded by the database column on every backend, so a huge number is a 400, never a 500.
    sms_message_limit = serializers.IntegerField(min_value=0, max_value=POSITIVE_INT_MAX)
    sms_phone_number_limit = serializers.IntegerField(min_value=0, max_value=POSITIVE_INT_MAX)
    sms_max_length = serializers.IntegerField(min_value=1, max_value=TWILIO_MAX_BODY)
    reply_window_days = serializers.IntegerField(
        min_value=0, max_value=POSITIVE_INT_MAX, required=False
    )
    number_quarantine_days = serializers.IntegerField(
        min_value=0,
        max_value=MAX_QUARANTINE_DAYS,
        required=False,
        help_text="Days a released sender number rests before it is assigned again (0: none).",
    )
    unanswered_reply_hours = serializers.IntegerField(
        min_value=0,
        max_value=POSITIVE_INT_MAX,
        required=False,
        help_text="Business hours a reply may wait before the daily digest lists it (0: no "
        "digest).",
    )
    price_per_segment = serializers.DecimalField(
        max_digits=8,
        decimal_places=4,
        min_value=Decimal("0"),
        required=False,
        help_text='What one SMS segment costs (the cohort preview\'s estimate), e.g. "0.0083".',
    )

    quiet_hours_start = serializers.TimeField(
        format="%H:%M",
        input_formats=["%H:%M"],
        allow_null=True,
        required=False,
        help_text='Quiet hours begin, "HH:MM" in the institution\'s time zone (default "21:00"); '
        "texts that would leave between start and end wait until the end. null: no quiet hours.",
    )
    quiet_hours_end = serializers.TimeField(
        format="%H:%M",
        input_formats=["%H:%M"],
        allow_null=True,
        required=False,
        help_text='Quiet hours end, "HH:MM" (default "08:00"); may be earlier than the start '
        "(a window across midnight). null: no quiet hours.",
    )
    sender_segments_per_second = serializers.IntegerField(
        min_value=0,
        max_value=MAX_SEGMENTS_PER_SECOND,
        required=False,
        error_messages={
            "min_value": SEGMENTS_PER_SECOND_ERROR,
            "max_value": SEGMENTS_PER_SECOND_ERROR,
            "invalid": SEGMENTS_PER_SECOND_ERROR,
        },
        help_text="How many SMS segments a second each sender number sends at most (default 1, "
        "a long code's rate): a large cohort is spread over time so Twilio's queue of about 4 "
        "hours per number never overflows. 0: no pacing (a Messaging Service or short code "
        "that paces itself).",
    )

    class Meta:
        model = SmsConfiguration
        fields = [
            "student_sms_default",
            "staff_sms_default",
            "default_sms_phone_type",
            "permitted_roles",
            "reply_notification_subject",
            "reply_notification_body",
            "sms_message_limit",
            "sms_phone_number_limit",
            "sms_max_length",
            "opt_out_scope",
            "help_text",
            "advanced_opt_out",
            "reply_window_days",
            "number_quarantine_days",
            "unanswered_reply_hours",
            "price_per_segment",
            "quiet_hours_start",
            "quiet_hours_end",
            "sender_segments_per_second",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from django.core.exceptions import ValidationError as DjangoValidationError

        from sms_admin import services

        try:
            services.configuration_validate(attrs, self.instance)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


class PhoneUsageRowSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField()
    person = serializers.IntegerField(source="person_id")
    person_name = serializers.CharField(source="person.full_name")
    number = serializers.CharField(source="sender_number.number")
    assigned_at = serializers.DateTimeField()
    held_by_student = serializers.BooleanField()


class PhoneUsageSerializer(serializers.Serializer[object]):
    limit = serializers.IntegerField()
    used = serializers.IntegerField()
    results = PhoneUsageRowSerializer(many=True)


class SmsUsageSerializer(serializers.Serializer[object]):
    month = serializers.CharField()
    limit = serializers.IntegerField()
    sent = serializers.IntegerField()
    remaining = serializers.IntegerField()
    forecast_month_end = serializers.IntegerField(
        help_text="Texts by the month's end at the month's pace so far (at least a day counted)."
    )
    limit_reached_on = serializers.DateField(
        allow_null=True,
        help_text="The day (institution's time zone) the limit is or, at this pace, would be "
        "reached; null when not before the month ends.",
    )


class SenderNumberSerializer(StrictJSON):
    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(max_length=32)
    assigned_to = serializers.IntegerField(read_only=True, allow_null=True)
    assigned_to_name = serializers.CharField(read_only=True, allow_null=True)
