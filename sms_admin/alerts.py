"""Emails to administrators about the month's usage (A2): when the month's count reaches 80%
and 95% of the SMS message limit (C6), and when a staff member's first text finds no sender
number (the phone number limit, C7, reached or the pool exhausted); each at most once per
month and kind.

Cost on the send path: the caller hands over the count its reservation returned (the counter's
`UPDATE ... RETURNING`), so below 80% nothing is read or written. At or past a threshold, the
first send in each process inserts the month's alert row (`ON CONFLICT DO NOTHING`, one indexed
statement); once the row is known to exist the process remembers it and adds no query for the
rest of the month. The unique (year, month, kind) decides which of racing senders emails: the
one whose insert created the row, when its transaction commits.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import partial

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone

from people.models import Person
from sms_admin import forecast, pool, selectors, services
from sms_admin.models import UsageAlert, UsageAlertKind

logger = logging.getLogger(__name__)

USAGE_ALERT_EMAIL = "sms_admin.tasks.usage_alert_email"
# (percent of the limit, kind), lowest first.
THRESHOLDS = (
    (forecast.WARN_PERCENT, UsageAlertKind.MESSAGES_80),
    (95, UsageAlertKind.MESSAGES_95),
)
# An alert the task has not emailed this long after it was recorded is published again.
SWEEP_AFTER = timedelta(minutes=1)

# (year, month, kind) whose row this process knows to be committed: no query for them.
_known: set[tuple[int, int, str]] = set()


def thresholds_reached(*, sent: int, limit: int) -> list[str]:
    """The message kinds whose threshold a month with `sent` texts has reached."""
    if limit <= 0 or sent <= 0:
        return []
    return [str(kind) for percent, kind in THRESHOLDS if sent >= forecast.threshold(limit, percent)]


def usage_alerts_check(taken: pool.Reservation) -> None:
    """After texts were taken from a month (`taken`, with the count right after): record, and
    email on commit, each threshold alert the month does not have yet. No query below 80%,
    nor once this process knows the month's alerts exist."""
    if not taken.granted:
        return
    for kind in thresholds_reached(sent=taken.sent, limit=taken.limit):
        if (taken.year, taken.month, kind) not in _known:
            usage_alert_raise(year=taken.year, month=taken.month, kind=kind)


def number_limit_alert(*, person: Person) -> None:
    """A staff member who may text found no sender number (C7 reached, or no free number):
    tell administrators, once a month."""
    year, month = pool.month_key()
    if (year, month, UsageAlertKind.NUMBER_LIMIT) not in _known:
        usage_alert_raise(year=year, month=month, kind=UsageAlertKind.NUMBER_LIMIT, person=person)


_INSERT = (
    f"INSERT INTO {UsageAlert._meta.db_table} "  # noqa: S608 (a table name)
    "(year, month, kind, person_id, created_at) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (year, month, kind) DO NOTHING RETURNING id"
)


def usage_alert_raise(
    *, year: int, month: int, kind: str, person: Person | None = None
) -> UsageAlert | None:
    """Record the month's alert of `kind` in the caller's transaction and publish its email
    when that commits. Returns the new row, or None when the month already has it (another
    sender's insert, committed or still in flight: PostgreSQL waits for it to finish).
    """
    now = timezone.now()
    key = (year, month, str(kind))
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT,
            [
                year,
                month,
                str(kind),
                person.pk if person else None,
                connection.ops.adapt_datetimefield_value(now),
            ],
        )
        row = cursor.fetchone()
    if row is None:
        _known.add(key)
        return None
    transaction.on_commit(partial(_known.add, key))
    transaction.on_commit(partial(_publish, int(row[0])))
    return UsageAlert(
        pk=int(row[0]), year=year, month=month, kind=kind, person=person, created_at=now
    )


def _publish(alert_id: int) -> None:
    """Hand the email to a worker; a broker that cannot be reached is logged, not raised (the
    send that crossed the threshold has committed), and the sweep publishes it later."""
    task = current_app.tasks[USAGE_ALERT_EMAIL]
    if task.app.conf.task_always_eager:
        task.delay(alert_id=alert_id)
        return
    try:
        task.delay(alert_id=alert_id)
    except Exception:
        logger.exception("Usage alert %s not published; the sweep will publish it", alert_id)


def usage_alerts_sweep() -> int:
    """Publish the alerts no task has emailed a minute after they were recorded (a broker
    outage, a lost task). Returns how many were published."""
    due = list(
        UsageAlert.objects.filter(
            emailed_at__isnull=True, created_at__lt=timezone.now() - SWEEP_AFTER
        ).values_list("pk", flat=True)
    )
    for pk in due:
        _publish(pk)
    return len(due)


def administrators_emails() -> list[str]:
    """The addresses of active administrators (staff or superusers) that have one."""
    return list(
        get_user_model()
        .objects.filter(Q(is_staff=True) | Q(is_superuser=True), is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )


def usage_alert_email(*, alert_id: int) -> bool:
    """Email the alert `alert_id` to administrators, once: the task that marks it emailed
    (a conditional UPDATE) sends it; a redelivered or swept duplicate sends nothing. A failed
    send is unmarked for the sweep. Returns whether an email went out."""
    claimed = UsageAlert.objects.filter(pk=alert_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return False
    alert = UsageAlert.objects.select_related("person").get(pk=alert_id)
    recipients = administrators_emails()
    if not recipients:
        logger.warning("Usage alert %s: no administrator has an email address", alert)
        return False
    subject, body = _compose(alert)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        UsageAlert.objects.filter(pk=alert_id).update(emailed_at=None)
        raise
    return True


def _twilio_tab() -> str:
    return f"{settings.PUBLIC_BASE_URL}{reverse('sms-config-twilio')}"


def _compose(alert: UsageAlert) -> tuple[str, str]:
    if alert.kind == UsageAlertKind.NUMBER_LIMIT:
        return _compose_numbers(alert)
    percent = 95 if alert.kind == UsageAlertKind.MESSAGES_95 else 80
    month_name = f"{date(alert.year, alert.month, 1):%B %Y}"
    usage, pace = pool.monthly_usage_outlook()
    if usage.month != f"{alert.year:04d}-{alert.month:02d}":
        # Emailed after its month ended (the sweep, after an outage): no pace to tell.
        subject = f"Texting: {percent}% of the SMS limit was used in {month_name}"
        return subject, f"{percent}% of the SMS message limit was reached in {month_name}."
    if pace.limit_reached_on is not None:
        outlook = (
            f"At this month's pace the limit would be reached on "
            f"{pace.limit_reached_on:%B} {pace.limit_reached_on.day}; after that, "
            "texts go by email until the month ends."
        )
    else:
        outlook = (
            f"At this month's pace about {pace.month_end} text{pluralize(pace.month_end)} "
            "will have been sent by the month's end, within the limit."
        )
    subject = f"Texting: {percent}% of this month's SMS limit is used"
    body = (
        f"{usage.sent} of the {usage.limit} texts allowed in {month_name} have been sent "
        f"({percent}% was reached).\n\n{outlook}\n\n"
        "When the limit is reached, staff members' texts are sent by email instead. Only the "
        "operator (a superuser) can raise the SMS message limit, on the Twilio tab of the SMS "
        f"Configuration: {_twilio_tab()}\n\n"
        f"This is the only email about {percent}% this month."
    )
    return subject, body


def _compose_numbers(alert: UsageAlert) -> tuple[str, str]:
    who = alert.person.full_name if alert.person else "A staff member"
    assigned = selectors.sender_assignments_active_count()
    limit = services.configuration_get().sms_phone_number_limit
    if assigned >= limit:
        why = (
            f"all {limit} phone numbers the institution may use are assigned (the SMS phone "
            "number limit is reached)"
        )
    else:
        why = "every number of the sender pool is taken"
    subject = "Texting: a staff member could not get a sender number"
    body = (
        f"{who} sent a first text and no sender number could be assigned: {why}. Their texts "
        "go by email until a number is free.\n\n"
        "Free a number on the Phone Number Usage grid (numbers held by people who no longer "
        "text), add provisioned numbers to the pool, or ask the operator (a superuser) to "
        f"raise the limit: {_twilio_tab()}\n\n"
        "This is the only email about sender numbers this month."
    )
    return subject, body
