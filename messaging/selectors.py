"""Reads that feed the pure rules: routing facts for one person or a whole cohort, and their
routes; the facts that attribute an inbound text (V2) and what releasing a number leaves
behind (Q2).

Query budget (R7): `route_for_person` costs 2 queries (configuration; the person with phones);
`routes_for_people` costs 2 in all, whatever the cohort: the configuration, then one streamed
query joining people and phones (the kind computed in SQL), read a batch at a time. The send
path (messaging.services, messaging.sending) uses these too, with the configuration's facts
from its one-query `send_context`, so no query is repeated.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from messaging import attribution, compiled, delivery, routing
from messaging.models import Channel, Direction, Message, Status
from people.models import SYSTEM_PHONE_TYPE_SRC, Person, RoleKind
from sms_admin import pool
from sms_admin import selectors as sms_admin_selectors
from sms_admin import services as sms_admin_services
from sms_admin.models import DefaultStatus, SmsConfiguration

DEFAULT_BATCH_SIZE = 2000

# One row per phone (or one row with NULL phone columns for a person without phones).
_ROW_COLUMNS = (
    "pk",
    "email",
    "_routing_student",
    "_routing_staff",
    "phones__id",
    "phones__number",
    "phones__phone_type__code",
    "phones__sms_status",
    "phones__deleted",
    "phones__verified_at",
    "phones__created_at",
    "phones__phone_type_src_system_id",
    "first_name",
    "last_name",
)


@dataclass(frozen=True, slots=True)
class SendContext:
    """What one send (or a worker's batch, per sender) needs to know, read in one query: the
    routing facts (C1-C3), the limits (C6, C8), whether the sender holds a permitted role (S1)
    and the pool number they hold now ("" before their first send, S2)."""

    config: routing.ConfigFacts
    sms_message_limit: int
    sms_max_length: int
    sender_permitted: bool
    sender_number: str
    # Quiet hours (K6), None when off.
    quiet_hours_start: time | None = None
    quiet_hours_end: time | None = None
    # Pacing (K7): segments a second per sender number; 0: none.
    sender_segments_per_second: int = 0


_CONTEXT_FIELDS = (
    "student_sms_default",
    "staff_sms_default",
    "default_sms_phone_type__code",
    "sms_message_limit",
    "sms_max_length",
    "sender_permitted",
    "sender_number",
    "quiet_hours_start",
    "quiet_hours_end",
    "sender_segments_per_second",
)


def _send_context_query(sender_id: int) -> QuerySet[Any]:
    holds_permitted = SmsConfiguration.permitted_roles.through.objects.filter(
        smsconfiguration_id=OuterRef("pk"), role__people=sender_id
    )
    held_number = (
        sms_admin_selectors.sender_assignments_active()
        .filter(person_id=sender_id)
        .values("sender_number__number")[:1]
    )
    query: QuerySet[Any] = (
        SmsConfiguration.objects.filter(pk=1)
        .annotate(sender_permitted=Exists(holds_permitted), sender_number=Subquery(held_number))
        .values(*_CONTEXT_FIELDS)
    )
    return query


# Every send and every worker batch reads this: compiled once (messaging.compiled).
_send_context_read = compiled.CompiledRead(_send_context_query, arity=1)


# A text answering the person's own text this recent goes at once, even in quiet hours (K6).
QUIET_HOURS_REPLY_WINDOW = timedelta(hours=2)


def texted_recently(person_ids: Iterable[int], *, now: datetime) -> set[int]:
    """Which of `person_ids` sent an inbound text in the last `QUIET_HOURS_REPLY_WINDOW`;
    1 query."""
    return set(
        Message.objects.filter(
            direction=Direction.INBOUND,
            sender_id__in=list(person_ids),
            created_at__gte=now - QUIET_HOURS_REPLY_WINDOW,
        ).values_list("sender_id", flat=True)
    )


def send_context(sender_id: int | None) -> SendContext:
    """The send context for `sender_id` (None: nobody may send); 1 query (2 on the very first
    use, which creates the configuration row)."""
    # No person has id 0: without a sender nobody is permitted and no number is held.
    sender = sender_id if sender_id is not None else 0
    found = _send_context_read.rows(sender)
    if not found:
        sms_admin_services.configuration_get()
        found = _send_context_read.rows(sender)
    row = found[0]
    return SendContext(
        config=routing.ConfigFacts(
            student_opted_in=row["student_sms_default"] == DefaultStatus.OPTED_IN,
            staff_opted_in=row["staff_sms_default"] == DefaultStatus.OPTED_IN,
            default_type_code=row["default_sms_phone_type__code"],
        ),
        sms_message_limit=row["sms_message_limit"],
        sms_max_length=row["sms_max_length"],
        sender_permitted=bool(row["sender_permitted"]),
        sender_number=row["sender_number"] or "",
        quiet_hours_start=row["quiet_hours_start"],
        quiet_hours_end=row["quiet_hours_end"],
        sender_segments_per_second=row["sender_segments_per_second"],
    )


SELF_TEXT_REFUSAL = "This is your own profile; texts go to other people."
UNLINKED_REFUSAL = (
    "Your login is not linked to a person, so you cannot send texts. "
    "Ask an administrator to link it."
)


def send_refusal(
    sender: Person | None, *, recipient_id: int | None = None, context: SendContext | None = None
) -> str:
    """Why `sender` may not text (`recipient_id`, when named), in the words every interface
    shows (the person page, the API, the service's PermissionDenied); "" when they may (S1).

    No query when `context` is given and the sender may send; one more to name the permitted
    roles in a refusal.
    """
    if sender is None:
        return UNLINKED_REFUSAL
    permitted = (context or send_context(sender.pk)).sender_permitted
    if not permitted:
        roles = ", ".join(
            sorted(
                SmsConfiguration.permitted_roles.through.objects.filter(
                    smsconfiguration_id=1
                ).values_list("role__name", flat=True)
            )
        )
        return "None of your roles is permitted to send texts; only staff holding a permitted " + (
            f"role may ({roles})."
            if roles
            else "role may, and no role is permitted yet: an administrator chooses them "
            "under SMS Configuration."
        )
    if recipient_id is not None and recipient_id == sender.pk:
        return SELF_TEXT_REFUSAL
    return ""


@dataclass(frozen=True, slots=True)
class SendPreview:
    """What a text from the viewer to a person would do now (the person page's route box).

    `plan` is the delivery plan (messaging.delivery) of a send made now: the route, this
    month's room (S4) and the viewer's number (S2): held, or one a first send would be given.
    For a viewer who may not send, it is the plan of a sender holding a number (the route and
    the month's room only), and the page names no sender number.
    """

    route: routing.Route
    plan: delivery.Plan
    may_send: bool
    held_number: str
    number_on_first_send: bool
    month_sent: int
    month_limit: int

    @property
    def limit_reached(self) -> bool:
        return self.month_sent >= self.month_limit


# What a plan names as the sender number of a sender's first send: the number is taken from the
# pool only when the text is sent, so its digits are not known in advance.
NUMBER_TO_BE_ASSIGNED = "a pool number"


def number_for_plan(held: str, sender_id: int | None, *, sms_likely: bool = True) -> str:
    """The sender number a delivery plan is made with: the one held, else `NUMBER_TO_BE_ASSIGNED`
    when a first send would be given one, else "" (none free: the plan says email). 0 queries
    with a held number or when `sms_likely` is False (the route is not SMS anyway), else 1."""
    if held:
        return held
    if sender_id is None or not sms_likely:
        return ""
    return (
        NUMBER_TO_BE_ASSIGNED
        if sms_admin_selectors.sender_number_would_be_assigned(sender_id)
        else ""
    )


def send_preview(
    person: Person, *, viewer: Person | None, context: SendContext, may_send: bool
) -> SendPreview:
    """The plan of a text from `viewer` to `person` made now, with the facts it rests on; it
    assigns and reserves nothing. 3 or 4 queries (the person's phones, the month's counter,
    and for a sender without a number whether one would be assigned).

    `may_send`: the viewer may text this person (no `send_refusal`).
    """
    route = route_for_person(person, config=context.config)
    usage = pool.monthly_usage_summary(limit=context.sms_message_limit)
    held = context.sender_number if may_send else ""
    if may_send:
        from_number = number_for_plan(
            held, viewer.pk if viewer is not None else None, sms_likely=route.channel == "sms"
        )
    else:
        # A viewer who may not send has no number: the plan of a sender holding one.
        from_number = NUMBER_TO_BE_ASSIGNED
    on_first_send = may_send and not held and from_number == NUMBER_TO_BE_ASSIGNED
    # The page shows `held_number`, never `plan.from_number`.
    plan = delivery.plan(
        route,
        email=person.email,
        from_number=from_number,
        within_limit=usage.sent < usage.limit,
    )
    return SendPreview(
        route=route,
        plan=plan,
        may_send=may_send,
        held_number=held,
        number_on_first_send=on_first_send,
        month_sent=usage.sent,
        month_limit=usage.limit,
    )


def config_facts() -> routing.ConfigFacts:
    """The configuration's default statuses (C1, C2) and default SMS phone type (C3); 1 query.

    Reads only: with no configuration row yet, the model's defaults apply (both opted in, no
    default SMS phone type).
    """
    row = (
        SmsConfiguration.objects.filter(pk=1)
        .values_list("student_sms_default", "staff_sms_default", "default_sms_phone_type__code")
        .first()
    )
    if row is None:
        return routing.ConfigFacts(
            student_opted_in=True, staff_opted_in=True, default_type_code=None
        )
    student_default, staff_default, type_code = row
    return routing.ConfigFacts(
        student_opted_in=student_default == DefaultStatus.OPTED_IN,
        staff_opted_in=staff_default == DefaultStatus.OPTED_IN,
        default_type_code=type_code,
    )


def _kind(is_student: bool) -> routing.Kind:
    return "student" if is_student else "staff"


def _ordering(queryset: QuerySet[Person]) -> list[Any]:
    """The ordering `queryset` would use, so the stream keeps the caller's order."""
    if queryset.query.order_by:
        return list(queryset.query.order_by)
    if queryset.query.default_ordering:
        return list(Person._meta.ordering or [])
    return []


def _person_facts(rows: Iterable[tuple[Any, ...]]) -> routing.PersonFacts:
    """Build one person's facts from their consecutive rows (one per phone)."""
    phones: list[routing.PhoneFacts] = []
    last_id = None
    for row in rows:
        phone_id = row[4]
        # A phone appears twice when the caller's queryset joins a person twice (e.g. two roles).
        if phone_id is None or phone_id == last_id:
            continue
        last_id = phone_id
        phones.append(
            routing.PhoneFacts(
                id=phone_id,
                number=row[5],
                type_code=row[6],
                sms_status=row[7],
                deleted=row[8],
                verified_at=row[9],
                created_at=row[10],
                is_system=row[11] == SYSTEM_PHONE_TYPE_SRC,
            )
        )
    person_id, email, has_student, has_staff = row[:4]
    return routing.PersonFacts(
        id=person_id,
        kind=_kind(has_student and not has_staff),
        email=email,
        phones=tuple(phones),
        first_name=row[12],
        last_name=row[13],
    )


def route_facts_for_people(
    queryset: QuerySet[Person], *, batch_size: int = DEFAULT_BATCH_SIZE, stream: bool = True
) -> Iterator[routing.PersonFacts]:
    """Stream the routing facts of every person in `queryset`, in its order; 1 query in all.

    People and their phones (deleted and system ones too, for the explanation) come from one
    query joining them, with the person's kind (P1) computed in SQL. It is streamed: a
    server-side cursor on PostgreSQL, read `batch_size` rows at a time, so memory stays bounded
    by the batch size however large the cohort, and no query is added per batch or per person.
    The queryset's ordering must be on the person's own fields (ties are broken by id).
    `stream=False` reads all rows at once instead, for a few people (one send, a worker's
    batch): a server-side cursor costs PostgreSQL a DECLARE, a FETCH and a CLOSE.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    query = _route_facts_query(queryset).values_list(*_ROW_COLUMNS)
    rows = query.iterator(chunk_size=batch_size) if stream else iter(query)
    for _, person_rows in groupby(rows, key=itemgetter(0)):
        yield _person_facts(person_rows)


def _route_facts_query(queryset: QuerySet[Person]) -> QuerySet[Any]:
    holds = Person.roles.through.objects.filter(person_id=OuterRef("pk"))
    return queryset.annotate(
        _routing_student=Exists(holds.filter(role__kind=RoleKind.STUDENT)),
        _routing_staff=Exists(holds.filter(role__kind=RoleKind.STAFF)),
    ).order_by(*_ordering(queryset), "pk", "phones__id")


# One person's facts are read by every single send and every worker text: compiled once.
_one_person_read = compiled.CompiledRead(
    lambda person_id: _route_facts_query(Person.objects.filter(pk=person_id)).values(*_ROW_COLUMNS),
    arity=1,
)


# A worker's batch of texts reads its recipients' facts: compiled once too (the ORM compiled
# this query for every batch, most of a batch's cost when single texts are drained one or two
# at a time).
_people_read = compiled.CompiledRead(
    lambda person_ids: _route_facts_query(Person.objects.filter(pk__in=person_ids)).values(
        *_ROW_COLUMNS
    ),
    arity=1,
    lists=(0,),
)


def route_facts_for_person_ids(person_ids: Sequence[int]) -> list[routing.PersonFacts]:
    """The routing facts of the people with these ids (those that exist), in the order of
    `route_facts_for_people`; 1 query."""
    rows = (tuple(row[column] for column in _ROW_COLUMNS) for row in _people_read.rows(person_ids))
    return [_person_facts(person_rows) for _, person_rows in groupby(rows, key=itemgetter(0))]


def route_facts_for_person_id(person_id: int) -> routing.PersonFacts | None:
    """The routing facts of the person with this id, None when there is none; 1 query.

    For the send path, which has an id (from a request or a queued message), not a Person.
    """
    rows = _one_person_read.rows(person_id)
    if not rows:
        return None
    return _person_facts(tuple(row[column] for column in _ROW_COLUMNS) for row in rows)


def route_facts_for_person(person: Person) -> routing.PersonFacts:
    """The routing facts of one person: their kind (P1), email and phones; 1 query.

    :raises Person.DoesNotExist: when `person` is not in the database.
    """
    for facts in route_facts_for_people(Person.objects.filter(pk=person.pk), stream=False):
        # Shown to a person: verified dates in the institution's time zone, like the rest of the
        # page (the cohort stream keeps the database's UTC and skips the conversion).
        return replace(
            facts,
            phones=tuple(
                replace(p, verified_at=timezone.localtime(p.verified_at)) if p.verified_at else p
                for p in facts.phones
            ),
        )
    raise Person.DoesNotExist(f"No person with id {person.pk}.")


def route_for_person(person: Person, *, config: routing.ConfigFacts | None = None) -> routing.Route:
    """Where a text to `person` goes now (R1-R6); 2 queries, 1 when `config` is given."""
    return routing.route(route_facts_for_person(person), config or config_facts())


def routes_for_people(
    queryset: QuerySet[Person],
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    config: routing.ConfigFacts | None = None,
) -> Iterator[tuple[int, routing.Route]]:
    """Stream `(person id, route)` for every person in `queryset` (R7).

    Queries: 1 for the configuration (none when `config` is given) and 1 streamed query for the
    people and their phones, read `batch_size` rows at a time: 2 in all, whatever the cohort.
    """
    config = config or config_facts()
    for facts in route_facts_for_people(queryset, batch_size=batch_size):
        yield facts.id, routing.route(facts, config)


# Texts that never reached the phone cannot be answered.
UNANSWERABLE_STATUSES = (Status.FAILED, Status.UNDELIVERED)


def last_texts_from_number(
    *, sender_number: str, phone_number: str, at: datetime
) -> QuerySet[Message]:
    """The SMS staff members sent from `sender_number` to `phone_number` at or before `at`, the
    last first, not failed or undelivered (the office's automatic answers have no sender and do
    not count). The last one is one index probe on (from_number, destination, created_at)."""
    return (
        Message.objects.filter(
            direction=Direction.OUTBOUND,
            channel=Channel.SMS,
            from_number=sender_number,
            destination=phone_number,
            sender__isnull=False,
            created_at__lte=at,
        )
        .exclude(status__in=UNANSWERABLE_STATUSES)
        .order_by("-created_at", "-id")
    )


def inbound_attribution_facts(
    *, from_number: str, to_number: str, at: datetime, reply_window_days: int
) -> attribution.InboundFacts:
    """What the attribution rule needs for a text from phone `from_number` to sender number
    `to_number` arriving at `at`: the last text from that number to that phone, with its sender,
    and the number's holder now. 2 queries."""
    last = (
        last_texts_from_number(sender_number=to_number, phone_number=from_number, at=at)
        .values(
            "sender_id", "sender__first_name", "sender__last_name", "created_at", "recipient_id"
        )
        .first()
    )
    holder = (
        sms_admin_selectors.sender_assignments_active()
        .filter(sender_number__number=to_number)
        .values("person_id", "person__first_name", "person__last_name")
        .first()
    )
    return attribution.InboundFacts(
        from_number=from_number,
        to_number=to_number,
        received_at=at,
        reply_window_days=reply_window_days,
        last_text=None
        if last is None
        else attribution.TextFacts(
            sender=_staff_facts(
                last["sender_id"], last["sender__first_name"], last["sender__last_name"]
            ),
            # In the institution's zone: the explanation prints the date.
            sent_at=timezone.localtime(last["created_at"]),
            recipient_id=last["recipient_id"],
        ),
        holder=None
        if holder is None
        else _staff_facts(
            holder["person_id"], holder["person__first_name"], holder["person__last_name"]
        ),
    )


def _staff_facts(person_id: int, first_name: str, last_name: str) -> attribution.StaffFacts:
    return attribution.StaffFacts(id=person_id, name=f"{first_name} {last_name}".strip())


@dataclass(frozen=True, slots=True)
class NumberTexter:
    """A staff member who texted people from a number within the reply window."""

    name: str
    people: int


@dataclass(frozen=True, slots=True)
class NumberReleaseFacts:
    """What releasing a sender number leaves behind (Q2): the people texted from it within the
    reply window, whose replies keep reaching whoever texted them (V2), and until when."""

    number: str
    reply_window_days: int
    people: int
    texters: tuple[NumberTexter, ...]
    # The last day a reply to one of those texts is still a reply (the last text + the window).
    replies_until: datetime | None


def number_release_facts(
    *, number: str, reply_window_days: int, at: datetime | None = None
) -> NumberReleaseFacts:
    """The texts staff members sent from `number` within the reply window before `at` (default
    now), that did not fail: how many people, by whom. 2 queries (on the index led by
    from_number)."""
    at = at or timezone.now()
    texts = Message.objects.filter(
        direction=Direction.OUTBOUND,
        channel=Channel.SMS,
        from_number=number,
        sender__isnull=False,
        created_at__gte=at - timedelta(days=reply_window_days),
        created_at__lte=at,
    ).exclude(status__in=UNANSWERABLE_STATUSES)
    by_sender = list(
        texts.values("sender_id", "sender__first_name", "sender__last_name")
        .annotate(people=Count("recipient", distinct=True), last=Max("created_at"))
        .order_by("-people", "sender__last_name", "sender__first_name", "sender_id")
    )
    people = texts.aggregate(people=Count("recipient", distinct=True))["people"] if by_sender else 0
    last = max((row["last"] for row in by_sender), default=None)
    return NumberReleaseFacts(
        number=number,
        reply_window_days=reply_window_days,
        people=people,
        texters=tuple(
            NumberTexter(
                name=f"{row['sender__first_name']} {row['sender__last_name']}".strip(),
                people=row["people"],
            )
            for row in by_sender
        ),
        replies_until=None if last is None else last + timedelta(days=reply_window_days),
    )
