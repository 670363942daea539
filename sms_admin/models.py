"""SMS configuration (one row), its change history, the sender-number pool, monthly usage,
and the Twilio error-code policy (C1-C10, S2, S3, S8, T3)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from people.models import Person, PersonPhone, PhoneType, Role

TWILIO_MAX_BODY = 1600
# The longest rest a released sender number can be given (a year).
MAX_QUARANTINE_DAYS = 365
# The largest value of a PostgreSQL integer column: limits above it cannot be stored.
POSITIVE_INT_MAX = 2_147_483_647
# The fastest pace a sender number can be given (segments per second): far above any Twilio
# sender's (a long code takes 1, a toll-free number 3 by default, a short code 100).
MAX_SEGMENTS_PER_SECOND = 1000
SEGMENTS_PER_SECOND_ERROR = (
    f"Enter a whole number of segments a second from 0 to {MAX_SEGMENTS_PER_SECOND} "
    "(1 for a long code; 0 for no pacing)."
)


class DefaultStatus(models.TextChoices):
    OPTED_IN = "opted_in", "Opted in"
    OPTED_OUT = "opted_out", "Opted out"


class OptOutScope(models.TextChoices):
    ALL_PHONES = "all_phones", "All of the person's phones"
    THIS_PHONE = "this_phone", "Only the phone that opted out"


DEFAULT_REPLY_SUBJECT = "{student_name} replied to your text"
DEFAULT_REPLY_BODY = (
    "Hello {staff_name},\n\n"
    "{student_name} replied to your text at {time}:\n\n"
    '"{reply_text}"\n\n'
    "Read and answer the conversation here: {conversation_link}\n"
)
DEFAULT_HELP_TEXT = (
    "You are receiving texts from your university's student success office. "
    "Reply STOP to stop, START to resume. For help, contact your advisor."
)


class SmsConfiguration(models.Model):
    """The institution's SMS configuration: exactly one row, id 1 (C1-C9).

    Change it only through sms_admin.services.configuration_update, which records history (C10).
    """

    student_sms_default = models.CharField(
        max_length=16, choices=DefaultStatus.choices, default=DefaultStatus.OPTED_IN
    )
    staff_sms_default = models.CharField(
        max_length=16, choices=DefaultStatus.choices, default=DefaultStatus.OPTED_IN
    )
    default_sms_phone_type = models.ForeignKey(
        PhoneType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    permitted_roles = models.ManyToManyField(Role, blank=True, related_name="+")
    reply_notification_subject = models.CharField(max_length=255, default=DEFAULT_REPLY_SUBJECT)
    reply_notification_body = models.TextField(default=DEFAULT_REPLY_BODY)
    sms_message_limit = models.PositiveIntegerField(default=10000)
    sms_phone_number_limit = models.PositiveIntegerField(default=5)
    sms_max_length = models.PositiveIntegerField(default=1000)
    opt_out_scope = models.CharField(
        max_length=16, choices=OptOutScope.choices, default=OptOutScope.ALL_PHONES
    )
    help_text = models.TextField(default=DEFAULT_HELP_TEXT)
    # With Twilio Advanced Opt-Out on the messaging service, Twilio answers HELP itself (T6).
    advanced_opt_out = models.BooleanField(default=False)
    # An inbound text is a reply when the staff number texted the person within this window (T7).
    reply_window_days = models.PositiveIntegerField(default=30)
    # A released sender number rests this many days before it is assigned again (0: no rest),
    # so replies to its last holder's texts are not mistaken for texts to the next one.
    number_quarantine_days = models.PositiveIntegerField(default=30)
    # The daily digest lists conversations waiting for an answer longer than this many business
    # hours (Monday-Friday 08:00-17:00, institution time zone); 0 turns the digest off.
    unanswered_reply_hours = models.PositiveIntegerField(default=24)
    # What Twilio charges per SMS segment, for the cohort preview's estimate (US long code).
    price_per_segment = models.DecimalField(
        max_digits=8, decimal_places=4, default=Decimal("0.0083")
    )
    # Quiet hours (institution time zone; may cross midnight): an outbound text that would leave
    # inside them waits until they end, except a reply to the person's text of the last 2 hours.
    # Either end empty: off.
    quiet_hours_start = models.TimeField(null=True, blank=True, default=time(21, 0))
    quiet_hours_end = models.TimeField(null=True, blank=True, default=time(8, 0))
    # Pacing: the texts of one sender number leave no faster than this many segments a second
    # (a long code's rate, so Twilio's queue of about 4 hours per number never overflows, 30001);
    # 0: no pacing (a Messaging Service or short code that paces itself).
    sender_segments_per_second = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SMS configuration"
        verbose_name_plural = "SMS configuration"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="smsconfiguration_single_row"),
            models.CheckConstraint(
                condition=Q(sms_max_length__gte=1, sms_max_length__lte=TWILIO_MAX_BODY),
                name="smsconfiguration_max_length_range",
            ),
            models.CheckConstraint(
                condition=Q(student_sms_default__in=["opted_in", "opted_out"])
                & Q(staff_sms_default__in=["opted_in", "opted_out"]),
                name="smsconfiguration_default_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return "SMS configuration"


class ConfigurationChange(models.Model):
    """One changed configuration value (C10): who, when, old and new."""

    field = models.CharField(max_length=64)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value!r} -> {self.new_value!r}"


class SenderNumber(models.Model):
    """A provisioned Twilio number of the institution's pool (C9)."""

    number = models.CharField(max_length=20, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class SenderAssignment(models.Model):
    """A pool number held by a staff member (S2, S8); released assignments stay as history.

    The database guarantees that a number has at most one active holder and a person at most one
    active number (partial unique indexes on released_at IS NULL).
    """

    sender_number = models.ForeignKey(
        SenderNumber, on_delete=models.PROTECT, related_name="assignments"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="sender_assignments")
    phone = models.OneToOneField(
        PersonPhone, on_delete=models.PROTECT, related_name="sender_assignment"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The number was still resting (released less than `number_quarantine_days` ago) when it was
    # given out, because no other number was free: the pool's one exception, recorded (Q1).
    assigned_while_resting = models.BooleanField(default=False)

    class Meta:
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sender_number"],
                condition=Q(released_at__isnull=True),
                name="senderassignment_one_holder_per_number",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(released_at__isnull=True),
                name="senderassignment_one_number_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender_number} -> {self.person}"


class MonthlyUsage(models.Model):
    """SMS sent in one calendar month of the institution's time zone (C6).

    Rows are created lazily, one per (year, month), so no reset job exists to be missed.
    """

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    sent = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-year", "-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month"], name="monthlyusage_one_row_per_month"
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="monthlyusage_month_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}: {self.sent}"


class PolicyAction(models.TextChoices):
    DISABLE_ALL_PHONES = "disable_all_phones", "Disable all of the person's phones; email"
    DISABLE_PHONE = "disable_phone", "Disable this phone; email"
    RETRY_THEN_EMAIL = "retry_then_email", "Retry later with backoff, then email"
    SENDER_SIDE = "sender_side", "Email; alert administrators; never disable the phone"
    RETRY = "retry", "Retry with backoff"


class ErrorCodePolicy(models.Model):
    """What a Twilio error code means for the message and the phone (T3); editable by admins."""

    code = models.PositiveIntegerField(unique=True)
    meaning = models.CharField(max_length=255)
    action = models.CharField(max_length=32, choices=PolicyAction.choices)
    failure_reason = models.CharField(max_length=64)

    class Meta:
        ordering = ["code"]
        verbose_name = "error-code policy"
        verbose_name_plural = "error-code policies"

    def __str__(self) -> str:
        return f"{self.code}: {self.meaning}"


class WebhookKind(models.TextChoices):
    STATUS = "status", "Status callback"
    INBOUND = "inbound", "Inbound message"


class WebhookReceipt(models.Model):
    """One row per webhook kind: when a correctly signed request of that kind last arrived.

    The Twilio tab's health line (C9) shows "last status callback received" from it. The
    webhooks (twilio_bridge) write it through sms_admin.services; it lives here so the tab reads
    it without importing the bridge (people <- sms_admin <- messaging <- twilio_bridge).
    """

    kind = models.CharField(max_length=16, choices=WebhookKind.choices, unique=True)
    last_received_at = models.DateTimeField()

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.last_received_at:%Y-%m-%d %H:%M:%S}"


class UsageAlertKind(models.TextChoices):
    MESSAGES_80 = "messages_80", "80% of the month's SMS message limit used"
    MESSAGES_95 = "messages_95", "95% of the month's SMS message limit used"
    NUMBER_LIMIT = "number_limit", "A staff member's first text found no sender number"


class UsageAlert(models.Model):
    """One email to administrators about a month's usage (A2), at most one per month and kind.

    The sender whose insert creates the row (ON CONFLICT DO NOTHING on the unique month and
    kind) publishes the email; racing senders find the row and publish nothing. `emailed_at` is
    set by the one task that sends it; the sweep publishes rows it never reached.
    """

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=UsageAlertKind.choices)
    # NUMBER_LIMIT: the staff member whose first text found no number.
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-year", "-month", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "kind"], name="usagealert_once_per_month_and_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d} {self.kind}"
