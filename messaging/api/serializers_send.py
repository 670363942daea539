"""REST representations of sending and the Message Report (the API v1 contract)."""

from __future__ import annotations

import copy
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from config.serializers import StrictJSON
from messaging import quiet_hours
from messaging.models import FailureReason, Message, Status


class MessageCreateSerializer(StrictJSON):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # Every send validates its body with a new serializer, and DRF deep-copies the declared
        # fields for each (a third of the validation's time). These fields keep no state of
        # their own between requests: a shallow copy of each, bound to this serializer, serves.
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    recipient = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    # The service gives the clear message for an empty or too long body (S5).
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)
    send_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Optional (ISO 8601): send at this time instead of now, at least one minute and "
        "at most 90 days ahead; without an offset it is read in the institution's time zone. "
        "Until then the message is `scheduled` and can be cancelled.",
    )


# The largest cohort one request may name: 10,000 people are recorded and queued in about 3 s
# (bench/README.md); a larger cohort goes in several requests, well inside a proxy's timeout.
COHORT_MAX = 10_000


class MessageBulkCreateSerializer(StrictJSON):
    recipients = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        allow_empty=False,
        max_length=COHORT_MAX,
        help_text=f"Person ids, at most {COHORT_MAX:,}; duplicates are sent to once.",
    )
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)
    send_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Optional (ISO 8601): send at this time instead of now, at least one minute and "
        "at most 90 days ahead; without an offset it is read in the institution's time zone. "
        "Until then the message is `scheduled` and can be cancelled.",
    )


class MessageBulkResultSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField(help_text="The cohort: follow it at `cohorts/{id}/`.")
    count = serializers.IntegerField(help_text="Messages recorded, one per distinct recipient.")
    channels = serializers.DictField(
        child=serializers.IntegerField(), help_text='Messages per channel ("sms", "email", "none").'
    )
    failure_reasons = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Messages not going by SMS, per reason (NO_SMS_PHONE, SMS_LIMIT_REACHED, ...).",
    )
    message_ids = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="The messages' ids, in the order of `recipients` (duplicates and "
        "`unknown_recipients` left out).",
    )
    unknown_recipients = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="People deleted while the cohort was being recorded: nothing was sent to them. "
        "(Ids unknown when the request arrived refuse the whole request with 400.)",
    )
    scheduled = serializers.IntegerField(
        help_text="Texts recorded `scheduled` (a `send_at`, or held by quiet hours): counted in "
        "no channel yet, their way is decided when they are due."
    )
    send_at = serializers.DateTimeField(
        allow_null=True, help_text="When the scheduled texts go; null when none is scheduled."
    )
    when = serializers.CharField(
        help_text='The same in words, institution time ("will go at 08:00"); "" when none is '
        "scheduled."
    )


class MessageSerializer(serializers.ModelSerializer[Message]):
    """One row of the Message Report."""

    # Declared: a read-only model field loses `allow_blank`, and the schema would then leave out
    # the "" that every message without a failure carries.
    failure_reason = serializers.ChoiceField(
        choices=FailureReason.choices,
        allow_blank=True,
        read_only=True,
        help_text='Why the text did not go by SMS or failed; "" when nothing went wrong.',
    )
    when = serializers.SerializerMethodField(
        help_text="When a scheduled text (or one held by quiet hours) goes, in words in the "
        'institution\'s time zone ("will go at 08:00"); "" for any other message.'
    )

    leaves_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When a text waiting for its sender number's pace (sender_segments_per_second) "
        "is planned to leave; null when it is not waiting (handed to the worker, or not paced).",
    )

    def get_when(self, message: Message) -> str:
        if message.status != Status.SCHEDULED or message.send_at is None:
            return ""
        return quiet_hours.scheduled_words(
            message.send_at, timezone.now(), timezone.get_current_timezone()
        )

    class Meta:
        model = Message
        fields = [
            "id",
            "direction",
            "sender",
            "recipient",
            "channel",
            "destination",
            "from_number",
            "body",
            "status",
            "failure_reason",
            "twilio_sid",
            "error_code",
            "segments",
            "encoding",
            "replaces",
            "retry_of",
            "not_before",
            "send_at",
            "when",
            "leaves_at",
            "attempts",
            "created_at",
            "updated_at",
            "sent_at",
            "delivered_at",
        ]
        read_only_fields = fields


class MessageBulkPreviewSerializer(serializers.Serializer[object]):
    count = serializers.IntegerField(help_text="Messages the cohort would make.")
    channels = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='How many would go by each channel ("sms", "email", "none").',
    )
    reasons = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="How many would not go by text, per reason (NO_SMS_PHONE, NO_SENDER_NUMBER, "
        "SMS_LIMIT_REACHED, NO_EMAIL).",
    )
    segments = serializers.IntegerField(help_text="The most segments one text would take.")
    total_segments = serializers.IntegerField(help_text="Segments of all the texts together.")
    monthly_remaining_after = serializers.IntegerField(
        help_text="Texts this month's limit would leave after the send."
    )
    estimated_cost = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="Total segments times the configured price per segment.",
    )
    last_leaves_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the last text would leave its sender number, at the configured pace "
        "(sender_segments_per_second) after what the number already has waiting, the nights of "
        "quiet hours it runs into counted; null: pacing is off or no text goes by SMS.",
    )
    send_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the texts would go if not now: the `send_at` asked for, or the end of "
        "quiet hours (a person who texted in the last 2 hours would still get theirs at once); "
        "null: now.",
    )
    when = serializers.CharField(
        help_text='The same in words, institution time ("will go at 08:00"); "" for now.'
    )


class CohortSerializer(serializers.Serializer[object]):
    """A cohort send and where its messages stand (the progress page's counts)."""

    id = serializers.IntegerField()
    sender = serializers.IntegerField(allow_null=True, help_text="The person who sent it.")
    created_at = serializers.DateTimeField()
    body = serializers.CharField(help_text="The body as written, merge fields unreplaced.")
    count = serializers.IntegerField(help_text="Messages recorded, one per distinct recipient.")
    send_at = serializers.DateTimeField(
        allow_null=True, help_text="When it is due to leave; null: sent at once."
    )
    statuses = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Its messages per status (email fallbacks of failed texts included).",
    )
    channels = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Its messages per channel ("sms", "email", "none").',
    )


class CohortCancelSerializer(serializers.Serializer[object]):
    id = serializers.IntegerField(help_text="The cohort.")
    canceled = serializers.IntegerField(
        help_text="Its texts that were scheduled and now will not go."
    )
