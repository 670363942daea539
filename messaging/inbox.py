"""The inbox (V3, V5): a staff member's conversations or the office's shared inbox, latest
activity first, with unread counts, "needs reply", the opted-out badge and waiting times.

A conversation is one owner (a staff member, or the shared inbox) and one other person on
record (V1, messaging.conversation). Its summary is read from what the two wrote each other,
kept in a row per conversation by the writes (messaging.inbox_services); the office's automatic
answers (HELP) show inside the conversation but do not make one.

Query budget, whatever the number of conversations: a page costs 3 queries (the number of
conversations, the page of their summary rows sorted in SQL, then the page's people and last
messages with the opted-out flag), so 10 and 10,000 conversations cost the same
(tests/messaging/test_inbox.py), and their time grows with the owner's conversations (a count
and a sort of narrow rows), never with their messages (bench/README.md, "Inbox").

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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from messaging.conversation import Owner
from messaging.models import ConversationSummary, Direction, Message
from people.models import SYSTEM_PHONE_TYPE_SRC, Person, PersonPhone, PhoneStatusChange, SmsStatus
from people.models import StatusCause as Cause

PAGE_SIZE = 25
EXCERPT_LENGTH = 120
# Twilio's "recipient unsubscribed" error: the number said STOP to the messaging service.
UNSUBSCRIBED_ERROR = 21610


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
    """`owner`'s conversations, latest activity first, as their summary rows (values of
    messaging.models.ConversationSummary: `pk`, `person_id`, `last_message_at`, `unread`,
    `last_reply_at`, `waiting_since`), only those matching every one of `filters`. One query
    however it is sliced, reading the owner's summaries only (no join: the sort is of narrow
    rows); `count()` is one more."""
    rows = ConversationSummary.objects.filter(staff_id=owner.staff_id)
    if Filter.UNREAD in filters:
        rows = rows.filter(unread__gt=0)
    if Filter.NEEDS_REPLY in filters:
        rows = rows.filter(last_reply_at=F("last_message_at"))
    return rows.values(
        "pk", "person_id", "last_message_at", "unread", "last_reply_at", "waiting_since"
    ).order_by("-last_message_at", "-person_id")


def _opted_out(person: str) -> Exists:
    latest_change = PhoneStatusChange.objects.filter(phone=OuterRef("pk")).order_by(
        "-changed_at", "-id"
    )
    their_own = Q(cause=Cause.OPT_OUT) | Q(cause=Cause.ERROR_CODE, error_code=UNSUBSCRIBED_ERROR)
    disabled_by_them = (
        PersonPhone.objects.filter(
            person=OuterRef(person), deleted=False, sms_status=SmsStatus.DISABLED
        )
        .exclude(phone_type_src_system_id=SYSTEM_PHONE_TYPE_SRC)
        .annotate(last_change=Subquery(latest_change.values("pk")[:1]))
        .filter(Exists(PhoneStatusChange.objects.filter(their_own, pk=OuterRef("last_change"))))
    )
    return Exists(disabled_by_them)


def conversation_rows(groups: Iterable[dict[str, Any]]) -> list[Conversation]:
    """The inbox rows of `groups` (a page of `conversation_groups`), in their order, with their
    people, last messages and opted-out flags; 1 query (none for an empty page)."""
    groups = list(groups)
    if not groups:
        return []
    details = {
        row["pk"]: row
        for row in ConversationSummary.objects.filter(pk__in=[g["pk"] for g in groups])
        .annotate(opted_out=_opted_out("person_id"))
        .values(
            "pk",
            "person__first_name",
            "person__last_name",
            "last_message__body",
            "last_message__direction",
            "last_message__status",
            "opted_out",
        )
    }
    rows = []
    for group in groups:
        found = details.get(group["pk"])
        if found is None:  # its person was deleted between the two queries
            continue
        needs_reply = (
            group["last_reply_at"] is not None
            and group["last_reply_at"] == group["last_message_at"]
        )
        rows.append(
            Conversation(
                person_id=group["person_id"],
                person_name=f"{found['person__first_name']} {found['person__last_name']}".strip(),
                last_message_at=group["last_message_at"],
                last_message_excerpt=excerpt(found["last_message__body"] or ""),
                last_message_direction=found["last_message__direction"] or "",
                last_message_status=found["last_message__status"] or "",
                unread=group["unread"],
                needs_reply=needs_reply,
                opted_out=bool(found["opted_out"]),
                waiting_since=group["waiting_since"] if needs_reply else None,
            )
        )
    return rows


def conversation_page(
    owner: Owner, filter: Filter = Filter.ALL, page: Any = 1, per_page: int = PAGE_SIZE
) -> Page[Conversation]:
    """One page of `owner`'s inbox; 3 queries (2 when it is empty), whatever its size."""
    paginator = Paginator(conversation_groups(owner, filter), per_page)
    found = paginator.get_page(page)
    return Page(conversation_rows(found.object_list), found.number, paginator)


def all_conversations(owner: Owner, filter: Filter = Filter.ALL) -> list[Conversation]:
    """Every conversation of `owner` matching `filter` (the daily digest); 2 queries."""
    return conversation_rows(conversation_groups(owner, filter))


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
