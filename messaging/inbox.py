"""The inbox (V3, V5): a staff member's conversations or the office's shared inbox, latest
activity first, with unread counts, "needs reply", the opted-out badge and waiting times.

A conversation is one owner (a staff member, or the shared inbox) and one other person on
record (V1, messaging.conversation). Its summary is read from what the two wrote each other;
the office's automatic answers (HELP) show inside the conversation but do not make one.

Query budget, whatever the number of conversations: a page costs 3 queries (the number of
conversations, the page's conversations grouped in SQL, then the page's people with their last
message, waiting time and opted-out flag as correlated subqueries), so 10 and 10,000
conversations cost the same (tests/messaging/test_inbox.py).

Definitions the rules leave open (docs/DECISIONS.md, "The inbox"):

- *unread*: the conversation's inbound texts (keywords too: a STOP is news) not yet opened by
  their owner (`read_at` empty).
- *needs reply*: the latest message the two wrote is an inbound text that is not a keyword.
- *waiting since*: for a conversation needing a reply, the oldest ordinary inbound text after
  the owner's last text or email to that person.
- *opted out*: the person has a phone (not deleted) that is SMS Disabled, and the latest change
  of its status was their own opt-out (a STOP keyword, or Twilio reporting the number
  unsubscribed, error 21610).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from messaging.conversation import Owner, inbound_of, outbound_of, written_between
from messaging.models import Direction, Message
from people.models import SYSTEM_PHONE_TYPE_SRC, Person, PersonPhone, PhoneStatusChange, SmsStatus
from people.models import StatusCause as Cause

PAGE_SIZE = 25
EXCERPT_LENGTH = 120
# Twilio's "recipient unsubscribed" error: the number said STOP to the messaging service.
UNSUBSCRIBED_ERROR = 21610
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


class Filter(enum.StrEnum):
    ALL = "all"
    UNREAD = "unread"
    NEEDS_REPLY = "needs_reply"


@dataclass(frozen=True, slots=True)
class Conversation:
    """One row of an inbox."""

    person_id: int
    person_name: str
    last_message_at: datetime
    last_message_excerpt: str
    last_message_direction: str
    last_message_status: str
    unread: int
    needs_reply: bool
    opted_out: bool
    waiting_since: datetime | None


def excerpt(body: str, length: int = EXCERPT_LENGTH) -> str:
    """The body on one line, cut at a word boundary to at most `length` characters."""
    flat = " ".join(body.split())
    if len(flat) <= length:
        return flat
    cut = flat[: length - 1]
    if flat[length - 1] != " ":  # inside a word: drop the word's beginning
        cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return cut.rstrip() + "…"


def conversation_groups(owner: Owner, *filters: Filter) -> QuerySet[Any]:
    """`owner`'s conversations as grouped rows, latest activity first: `person_id`, `last_at`,
    `unread`, `last_reply_at` (latest ordinary inbound text), `last_answer_at` (the owner's
    latest text or email); only those matching every one of `filters`. One query however it is
    sliced; `count()` is one more."""
    other = Case(When(direction=Direction.OUTBOUND, then=F("recipient_id")), default=F("sender_id"))
    rows = (
        Message.objects.filter(
            (outbound_of(owner) & Q(recipient__isnull=False))
            | (inbound_of(owner) & Q(sender__isnull=False))
        )
        .annotate(person_id=other)
        .values("person_id")
        .annotate(
            last_at=Max("created_at"),
            unread=Count("pk", filter=Q(direction=Direction.INBOUND, read_at__isnull=True)),
            last_reply_at=Max("created_at", filter=Q(direction=Direction.INBOUND, keyword="")),
            last_answer_at=Max("created_at", filter=Q(direction=Direction.OUTBOUND)),
        )
        .order_by("-last_at", "-person_id")
    )
    if Filter.UNREAD in filters:
        rows = rows.filter(unread__gt=0)
    if Filter.NEEDS_REPLY in filters:
        rows = rows.filter(last_reply_at=F("last_at"))
    return rows


def _opted_out() -> Exists:
    latest_change = PhoneStatusChange.objects.filter(phone=OuterRef("pk")).order_by(
        "-changed_at", "-id"
    )
    their_own = Q(cause=Cause.OPT_OUT) | Q(cause=Cause.ERROR_CODE, error_code=UNSUBSCRIBED_ERROR)
    disabled_by_them = (
        PersonPhone.objects.filter(
            person=OuterRef("pk"), deleted=False, sms_status=SmsStatus.DISABLED
        )
        .exclude(phone_type_src_system_id=SYSTEM_PHONE_TYPE_SRC)
        .annotate(last_change=Subquery(latest_change.values("pk")[:1]))
        .filter(Exists(PhoneStatusChange.objects.filter(their_own, pk=OuterRef("last_change"))))
    )
    return Exists(disabled_by_them)


def conversation_rows(owner: Owner, groups: list[dict[str, Any]]) -> list[Conversation]:
    """The inbox rows for `groups` (from `conversation_groups`), in their order; 1 query."""
    if not groups:
        return []
    person = OuterRef("pk")
    last = Message.objects.filter(written_between(owner, person)).order_by("-created_at", "-id")
    # Nested inside `waiting`: the person is two queries out.
    last_answer = (
        Message.objects.filter(outbound_of(owner), recipient=OuterRef(OuterRef("pk")))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    waiting = (
        Message.objects.filter(
            inbound_of(owner),
            sender=person,
            keyword="",
            created_at__gt=Coalesce(Subquery(last_answer), Value(_LONG_AGO)),
        )
        .order_by("created_at")
        .values("created_at")[:1]
    )
    people = {
        row["pk"]: row
        for row in Person.objects.filter(pk__in=[g["person_id"] for g in groups])
        .annotate(
            last_body=Subquery(last.values("body")[:1]),
            last_direction=Subquery(last.values("direction")[:1]),
            last_status=Subquery(last.values("status")[:1]),
            waiting_since=Subquery(waiting),
            opted_out=_opted_out(),
        )
        .values(
            "pk",
            "first_name",
            "last_name",
            "last_body",
            "last_direction",
            "last_status",
            "waiting_since",
            "opted_out",
        )
    }
    rows = []
    for group in groups:
        found = people.get(group["person_id"])
        if found is None:  # deleted between the two queries
            continue
        needs_reply = (
            group["last_reply_at"] is not None and group["last_reply_at"] == group["last_at"]
        )
        rows.append(
            Conversation(
                person_id=found["pk"],
                person_name=f"{found['first_name']} {found['last_name']}".strip(),
                last_message_at=group["last_at"],
                last_message_excerpt=excerpt(found["last_body"] or ""),
                last_message_direction=found["last_direction"] or "",
                last_message_status=found["last_status"] or "",
                unread=group["unread"],
                needs_reply=needs_reply,
                opted_out=bool(found["opted_out"]),
                waiting_since=found["waiting_since"] if needs_reply else None,
            )
        )
    return rows


def conversation_page(
    owner: Owner, filter: Filter = Filter.ALL, page: Any = 1, per_page: int = PAGE_SIZE
) -> Page[Conversation]:
    """One page of `owner`'s inbox; 3 queries (2 when it is empty), whatever its size."""
    paginator = Paginator(conversation_groups(owner, filter), per_page)
    found = paginator.get_page(page)
    return Page(conversation_rows(owner, list(found.object_list)), found.number, paginator)


def all_conversations(owner: Owner, filter: Filter = Filter.ALL) -> list[Conversation]:
    """Every conversation of `owner` matching `filter` (the daily digest); 2 queries."""
    return conversation_rows(owner, list(conversation_groups(owner, filter)))


def staff_with_inbound() -> QuerySet[Person]:
    """Staff members with at least one inbound text attributed to them (whose inbox has
    something to answer), by name: the administrators' choice of inbox and the digest's list."""
    owners = Message.objects.filter(
        direction=Direction.INBOUND, attributed_to__isnull=False
    ).values("attributed_to_id")
    return Person.objects.filter(pk__in=owners).order_by("last_name", "first_name", "id")


def waited_words(seconds: float) -> str:
    """How long a reply has waited, in the inbox's words: "waiting 5 min", "waiting 3 h",
    "waiting 2 days"."""
    minutes = max(0, int(seconds // 60))
    if minutes < 60:
        return f"waiting {max(1, minutes)} min"
    hours = minutes // 60
    if hours < 48:
        return f"waiting {hours} h"
    return f"waiting {hours // 24} days"
