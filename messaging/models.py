"""Messages: every text and email fallback, outbound and inbound (S7, T2, T8).

Outbound state machine (statuses are Twilio's words; they only move forward by rank)::

    scheduled --due: routed now--> queued | (channel email) queued | failed
       \\--cancel--> canceled
    queued --claim--> sending --Twilio accepted--> sent --> delivered
       |                 |                           \\--> undelivered | failed
       |                 \\--refused / retries exhausted--> failed (+ email fallback)
       \\--routed to email--> (channel email) sent | failed

A text Twilio reports undelivered with a "retry later" code (30003, 30008) gets a new queued
text `retry_of` it, due at `not_before` (T3); an email (routed or fallback) is claimed
queued -> sending by its task and re-sent once by the sweep when its outcome is unknown.

Inbound messages are stored once per Twilio MessageSid with status `received`.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from people.models import Person, PersonPhone


class Direction(models.TextChoices):
    OUTBOUND = "outbound", "Outbound"
    INBOUND = "inbound", "Inbound"


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"
    NONE = "none", "Undeliverable"


class Status(models.TextChoices):
    # Waiting for its `send_at` (a scheduled text, or one held by quiet hours); routed when due.
    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    FAILED = "failed", "Failed"
    RECEIVED = "received", "Received"
    # Cancelled while scheduled: it never left.
    CANCELED = "canceled", "Canceled"


# Statuses only move forward: a callback with a lower rank than the stored one changes nothing.
STATUS_RANK: dict[str, int] = {
    Status.SCHEDULED: -1,
    Status.QUEUED: 0,
    Status.SENDING: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.UNDELIVERED: 3,
    Status.FAILED: 3,
    Status.RECEIVED: 3,
    Status.CANCELED: 3,
}
FINAL_STATUSES = frozenset(
    {Status.DELIVERED, Status.UNDELIVERED, Status.FAILED, Status.RECEIVED, Status.CANCELED}
)


class FailureReason(models.TextChoices):
    TWILIO_RECIPIENT_UNSUBSCRIBED = "TWILIO_RECIPIENT_UNSUBSCRIBED", "Recipient unsubscribed (STOP)"
    TWILIO_INVALID_NUMBER = "TWILIO_INVALID_NUMBER", "Invalid phone number"
    TWILIO_NOT_MOBILE = "TWILIO_NOT_MOBILE", "Not a mobile number"
    TWILIO_UNKNOWN_HANDSET = "TWILIO_UNKNOWN_HANDSET", "Unknown destination handset"
    TWILIO_LANDLINE = "TWILIO_LANDLINE", "Landline or unreachable carrier"
    TWILIO_BLOCKED = "TWILIO_BLOCKED", "Message blocked"
    TWILIO_FILTERED = "TWILIO_FILTERED", "Message filtered by the carrier"
    TWILIO_UNREACHABLE = "TWILIO_UNREACHABLE", "Handset unreachable"
    TWILIO_REGION_NOT_PERMITTED = "TWILIO_REGION_NOT_PERMITTED", "Region not permitted"
    TWILIO_SENDER_UNREGISTERED = "TWILIO_SENDER_UNREGISTERED", "Sender number not registered"
    SMS_LIMIT_REACHED = "SMS_LIMIT_REACHED", "Monthly SMS limit reached"
    NO_SMS_PHONE = "NO_SMS_PHONE", "No phone can receive texts"
    NO_SENDER_NUMBER = "NO_SENDER_NUMBER", "No sender number available"
    NO_EMAIL = "NO_EMAIL", "No email address"
    RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED", "Twilio unavailable; retries exhausted"
    NEEDS_REVIEW = "NEEDS_REVIEW", "Twilio did not answer; check before sending again"


# An outbound message with this keyword and no sender is the office's automatic answer to an
# inbound HELP/INFO (T6), answered in the webhook's TwiML.
AUTOMATIC_ANSWER_KEYWORD = "help"


class Attribution(models.TextChoices):
    """Why an inbound text belongs to its conversation (the reply-attribution rule)."""

    REPLY = "reply", "Reply to the staff member who last texted this phone from that number"
    HOLDER = "holder", "Sent first to the number's current holder"
    SHARED = "shared", "Nobody texted this phone from the number and nobody holds it"


class Cohort(models.Model):
    """One cohort send (K2): the messages it recorded point at it (`Message.cohort`), so its
    progress page and the Message Report can follow them. (A "send at" time will join it with
    scheduling.)"""

    sender = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="cohorts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Messages recorded, one per distinct recipient.
    count = models.PositiveIntegerField(default=0)
    # The body as written, merge fields unreplaced.
    body = models.TextField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"cohort #{self.pk} ({self.count})"


class Message(models.Model):
    direction = models.CharField(max_length=16, choices=Direction.choices)
    # Five foreign keys have no index of their own: an index that begins with the same column
    # (sender, recipient, attributed_to) or the unique partial one (replaces, retry_of) serves
    # their lookups, and every index is written again each time a text changes status.
    sender = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sent_messages",
        db_index=False,
    )
    recipient = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="received_messages",
        db_index=False,
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # The number or email address the message went to (outbound) or came to (inbound).
    destination = models.CharField(max_length=254, blank=True)
    # The number it came from: the staff system number (outbound) or the texter (inbound).
    from_number = models.CharField(max_length=20, blank=True)
    phone = models.ForeignKey(
        PersonPhone, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    body = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    failure_reason = models.CharField(max_length=64, blank=True, choices=FailureReason.choices)
    twilio_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    segments = models.PositiveSmallIntegerField(default=0)
    encoding = models.CharField(max_length=8, blank=True)
    # The text this email fallback stands in for.
    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fallbacks",
        db_index=False,
    )
    # The text this one tries again (T3 "retry later" codes reported by a status callback): each
    # attempt has its own token, SID and statuses, so late callbacks of one never touch another.
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retries",
        db_index=False,
    )
    # A queued retry is not sent before this time (the sweep enqueues it when due).
    not_before = models.DateTimeField(null=True, blank=True)
    # A scheduled text (K5) or one held by quiet hours (K6): released (routed, given its number
    # and its unit of the month) when this time comes. Stays as the time asked for.
    send_at = models.DateTimeField(null=True, blank=True)
    # A queued text waiting for its sender number's pace (K7): its planned departure. Not sent
    # (not even published) until the pacer admits it and clears this (messaging.pacing).
    leaves_at = models.DateTimeField(null=True, blank=True)
    # Our own id for Twilio's status callback URL, so a callback that overtakes the stored SID
    # still finds its message (T2).
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Inbound only: the keyword class (stop, start, help) or empty; and whether it was a reply.
    keyword = models.CharField(max_length=8, blank=True)
    is_reply = models.BooleanField(default=False)
    # Inbound only: the staff member whose conversation it joins, decided once when it is
    # recorded; None with attribution "shared" (the office's shared inbox) or for texts recorded
    # before attribution existed and not yet attributed.
    attributed_to = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attributed_messages",
        db_index=False,
    )
    attribution = models.CharField(max_length=8, blank=True, choices=Attribution.choices)
    # Inbound only: when its conversation was opened by the staff member it belongs to (or, in
    # the shared inbox, by an administrator); None while unread.
    read_at = models.DateTimeField(null=True, blank=True)
    # The cohort send that recorded it (its email fallbacks and retries follow it), if any.
    cohort = models.ForeignKey(
        Cohort, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "updated_at"]),
            models.Index(fields=["sender", "recipient", "created_at"]),
            # The inbox: a staff member's conversations and their unread inbound texts.
            models.Index(fields=["attributed_to", "read_at"]),
            models.Index(fields=["recipient", "created_at"]),
            # Reply attribution: the last text from a sender number to a phone (V2); and the
            # texts sent from a number lately (the confirmation before releasing it, Q2).
            models.Index(fields=["from_number", "destination", "created_at"]),
            # The inbox's live updates: the latest change to a staff member's own messages
            # (a new send, a status moving on) is one index probe.
            models.Index(fields=["sender", "updated_at"], name="message_sender_updated"),
            # The release of due scheduled texts: only scheduled rows, by due time.
            models.Index(
                fields=["send_at"],
                condition=Q(status="scheduled"),
                name="message_scheduled_due",
            ),
            # The pacer's work: texts waiting for their number's pace, by number and slot.
            models.Index(
                fields=["from_number", "leaves_at"],
                condition=Q(status="queued", leaves_at__isnull=False),
                name="message_paced_waiting",
            ),
            # The shared inbox's unread texts, without reading every outbound message (whose
            # attributed_to and read_at are empty too).
            models.Index(
                fields=["read_at"],
                condition=Q(attribution="shared"),
                name="message_shared_read",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="message_status_valid"
            ),
            # A text is stood in for by at most one email, however often its failure is reported.
            models.UniqueConstraint(
                fields=["replaces"],
                condition=Q(replaces__isnull=False),
                name="message_one_fallback_per_text",
            ),
            # A failed attempt is tried again at most once (the next attempt has its own row).
            models.UniqueConstraint(
                fields=["retry_of"],
                condition=Q(retry_of__isnull=False),
                name="message_one_retry_per_text",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.channel} #{self.pk} ({self.status})"

    @property
    def is_automatic_answer(self) -> bool:
        """The office's automatic answer to a HELP/INFO (T6), not a text somebody wrote."""
        return self.direction == Direction.OUTBOUND and self.keyword == AUTOMATIC_ANSWER_KEYWORD


class ConversationSummary(models.Model):
    """One conversation of an inbox (an owner and a person, messaging.conversation), summed up:
    what the inbox lists, so a page reads its 25 rows instead of every message of the owner.

    Kept in the same transaction as every write that changes it, by
    `messaging.inbox_services.conversations_record` (a text, an email, a reply recorded) and
    `conversation_mark_read`; statuses are read from the last message itself, so a status
    callback changes nothing here. `conversation_summaries_rebuild` computes every row again
    from the messages (tests/messaging/test_inbox_summary.py holds the two equal).
    """

    # Every message writes its conversation's row, so the indexes are few and on columns a
    # message never changes (staff, person): PostgreSQL then updates the row in place (a "HOT"
    # update, no index entry; the table keeps room in each page for it, see the migration).
    # An inbox's page sorts its owner's rows by last_message_at (a few thousand at most).
    # The staff member whose conversation it is; None for the office's shared inbox.
    staff = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+", db_index=False)
    # The latest message the two wrote each other (by created_at, then id). A pointer without a
    # constraint or an index: the product never deletes a message; one deleted by hand leaves
    # its conversation without an excerpt until `conversation_summaries_rebuild`.
    last_message_at = models.DateTimeField()
    last_message = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    # The latest ordinary inbound text (not a keyword): "needs reply" when it is the last.
    last_reply_at = models.DateTimeField(null=True, blank=True)
    # The owner's latest text or email to the person.
    last_answer_at = models.DateTimeField(null=True, blank=True)
    # The oldest ordinary inbound text after `last_answer_at` (None: none since).
    waiting_since = models.DateTimeField(null=True, blank=True)
    # Inbound texts (keywords too) not yet opened by the owner.
    unread = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # One conversation per staff member and person (the person first: it also finds a
            # person's rows); NULLs are distinct in it, so the shared inbox has its own (a
            # partial index, not NULLS NOT DISTINCT: SQLite has no such option).
            models.UniqueConstraint(
                fields=["person", "staff"], name="conversation_one_per_person_and_staff"
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(staff__isnull=True),
                name="conversation_one_shared_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id or 'shared'} and {self.person_id}: {self.unread} unread"

    @property
    def needs_reply(self) -> bool:
        return self.last_reply_at is not None and self.last_reply_at == self.last_message_at


class SendRequest(models.Model):
    """An API send made with an `Idempotency-Key` header: a retry of it with the same key returns
    the first answer instead of sending again (nothing sent twice when a client's request timed
    out after the server had taken it)."""

    sender = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="send_requests")
    key = models.CharField(max_length=255)
    # SHA-256 of the path and the request body: the same key with another body is refused.
    fingerprint = models.CharField(max_length=64)
    # None only inside the transaction that serves the request (the API commits both together).
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sender", "key"], name="send_request_key_per_sender")
        ]

    def __str__(self) -> str:
        return f"{self.sender_id}:{self.key} ({self.status_code or 'in progress'})"


class MessageTemplate(models.Model):
    """A named body administrators keep for staff to start a text or a cohort's text from; its
    merge fields are replaced per recipient when the text is sent."""

    name = models.CharField(max_length=100, unique=True)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MonthSummary(models.Model):
    """What staff sent in one settled calendar month (the analytics chart), summed once.

    A month that ended more than `messaging.analytics.SETTLE_DAYS` ago no longer changes, so the
    12-month chart reads these rows instead of counting every message of the year on each view;
    the months still moving are counted live. Keyed by the time zone the months were cut in.
    Deleting rows is safe: they are summed again on the next view.
    """

    time_zone = models.CharField(max_length=64)
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    sent = models.PositiveIntegerField()
    delivered = models.PositiveIntegerField()
    failed = models.PositiveIntegerField()
    by_email = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["time_zone", "year", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["time_zone", "year", "month"], name="monthsummary_one_row_per_month"
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="monthsummary_month_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d} ({self.time_zone}): {self.sent} texts"


class UnansweredDigest(models.Model):
    """The daily email listing a staff member's conversations waiting for an answer: one row per
    staff member and day, inserted before the email is sent, so two beat processes (or a
    retried task) send it at most once."""

    staff = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="unanswered_digests")
    day = models.DateField()
    conversations = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["staff", "day"], name="unanswered_digest_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.day}: {self.conversations}"


class OutboxKind(models.TextChoices):
    REPLY_NOTIFICATION = "reply_notification", "Reply notification"
    ADMINS_ALERT = "admins_alert", "Administrators' alert"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    # Nothing to send when its time came (no address, no administrator with an address).
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class OutboxEmail(models.Model):
    """An email the application owes staff (a reply notification, an administrators' alert),
    written in the same transaction as what calls for it, so a broker outage loses nothing, and
    sent by a worker: by the task published on commit, or else by the sweep.

        pending --claim--> sending --> sent | skipped
           ^                  |
           \\-- the send raised, or its outcome is unknown (the sweep) --/  ... then failed

    The claim (a conditional UPDATE pending -> sending) lets one worker send it; only a worker
    dying between the claim and recording the answer can make it go twice (messaging.outbox).
    """

    kind = models.CharField(max_length=32, choices=OutboxKind.choices)
    # What makes two rows the same email: the inbound message, or the error code and its hour.
    key = models.CharField(max_length=100)
    # What the email is about: {"message_id": ...} or {"code": ..., "reason": ...}.
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "updated_at"])]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="outbox_email_once_per_key"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in OutboxStatus]),
                name="outbox_email_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"


class SenderPace(models.Model):
    """The pace of one sender number (K7), one row a number, made on its first paced text.

    Counted in slots of 1/`rate` second since the epoch (integers, so the per-second budget is
    exact): `planned_slot` is where the next text recorded for the number is planned
    (`Message.leaves_at`); `admitted_slot` is how far the texts handed to the worker have used
    the number's time. Written only under this row's lock (messaging.pacing).
    """

    number = models.CharField(max_length=20, unique=True)
    rate = models.PositiveIntegerField()
    planned_slot = models.BigIntegerField(default=0)
    admitted_slot = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"pace of {self.number}"
