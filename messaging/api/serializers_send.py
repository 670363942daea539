"""REST representations of sending and the Message Report (the API v1 contract)."""

from __future__ import annotations

from rest_framework import serializers

from config.serializers import StrictJSON
from messaging.models import FailureReason, Message


class MessageCreateSerializer(StrictJSON):
    recipient = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    # The service gives the clear message for an empty or too long body (S5).
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)


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


class MessageBulkResultSerializer(serializers.Serializer[object]):
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


class MessageSerializer(serializers.ModelSerializer[Message]):
    """One row of the Message Report (S7)."""

    # Declared: a read-only model field loses `allow_blank`, and the schema would then leave out
    # the "" that every message without a failure carries.
    failure_reason = serializers.ChoiceField(
        choices=FailureReason.choices,
        allow_blank=True,
        read_only=True,
        help_text='Why the text did not go by SMS or failed; "" when nothing went wrong.',
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
            "attempts",
            "created_at",
            "updated_at",
            "sent_at",
            "delivered_at",
        ]
        read_only_fields = fields
