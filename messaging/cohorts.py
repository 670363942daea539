"""Reads of cohort sends (K2): who may follow one, and its progress as the worker goes.

A cohort is recorded by `messaging.services.message_send_bulk`; its messages (and their email
fallbacks and retries) point at it, so its progress is one aggregate query over them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min
from django.db.models.functions import Length
from django.http import Http404

from config.api import is_administrator
from messaging import pacing
from messaging.models import Channel, Cohort, Message, Status
from people import selectors as people_selectors
from people.models import Person
from sms_admin import services as sms_admin_services

COHORT_REFUSAL = "Only the person who sent this cohort and administrators may follow it."


def cohort_for_viewer(cohort_id: int, user: Any) -> Cohort:
    """The cohort, for its sender or an administrator.

    :raises Http404: when there is no such cohort.
    :raises PermissionDenied: when `user` is neither its sender nor an administrator.
    """
    cohort = Cohort.objects.filter(pk=cohort_id).first()
    if cohort is None:
        raise Http404(f"There is no cohort with id {cohort_id}.")
    person = getattr(user, "person", None)
    if is_administrator(user) or (person is not None and cohort.sender_id == person.pk):
        return cohort
    raise PermissionDenied(COHORT_REFUSAL)


@dataclass(frozen=True)
class Progress:
    """Where a cohort's messages stand. `statuses` and `channels` count every message of the
    cohort (email fallbacks of failed texts included); the named counts are the progress page's:
    texts waiting or being sent (`queued`), sent, delivered, failed (or undelivered), every
    email (`by_email`: routed to email or standing in for a failed text) and nowhere (no
    phone and no email)."""

    statuses: dict[str, int]
    channels: dict[str, int]
    queued: int
    sent: int
    delivered: int
    failed: int
    by_email: int
    nowhere: int
    email_waiting: int
    # Texts waiting for their `send_at` (K5, K6), the first of those times, and the cancelled.
    scheduled: int = 0
    send_at: datetime | None = None
    canceled: int = 0
    # The planned slots of the first and the last of its texts waiting for their number's pace
    # (K7), quiet hours not counted; None: none waits.
    first_leaves_at: datetime | None = None
    last_leaves_at: datetime | None = None

    @property
    def finished(self) -> bool:
        """Nothing is left for the worker: no text and no email waiting, scheduled or being
        sent."""
        return self.queued == 0 and self.email_waiting == 0 and self.scheduled == 0

    @property
    def finished_words(self) -> str:
        """The progress page's sentence once `finished`: a cohort whose texts were all cancelled
        before leaving says so, rather than that everything has left."""
        if self.canceled and self.canceled == sum(self.statuses.values()):
            return "Cancelled: none of these texts was sent."
        if self.canceled:
            return (
                f"Everything else has left ({self.canceled:,} cancelled); delivery reports may "
                "still arrive."
            )
        return "Everything has left; delivery reports may still arrive."


def cohort_progress(cohort_id: int) -> Progress:
    """The counts of a cohort's messages by status and channel, and the first time a scheduled
    one waits for: one aggregate query."""
    rows = (
        Message.objects.filter(cohort_id=cohort_id)
        .order_by()
        .values_list("channel", "status")
        .annotate(
            n=Count("id"), first=Min("send_at"), soonest=Min("leaves_at"), last=Max("leaves_at")
        )
    )
    statuses: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    sms: Counter[str] = Counter()
    email_waiting = 0
    waiting_until: datetime | None = None
    first_leaves_at: datetime | None = None
    last_leaves_at: datetime | None = None
    for channel, status, n, first, soonest, last in rows:
        if status == Status.SCHEDULED and first is not None:
            waiting_until = first if waiting_until is None else min(waiting_until, first)
        if soonest is not None and (first_leaves_at is None or soonest < first_leaves_at):
            first_leaves_at = soonest
        if last is not None and (last_leaves_at is None or last > last_leaves_at):
            last_leaves_at = last
        statuses[status] += n
        channels[channel] += n
        if channel == Channel.SMS:
            sms[status] += n
        elif channel == Channel.EMAIL and status in (Status.QUEUED, Status.SENDING):
            email_waiting += n
    return Progress(
        statuses=dict(statuses),
        channels=dict(channels),
        queued=sms[Status.QUEUED] + sms[Status.SENDING],
        sent=sms[Status.SENT],
        delivered=sms[Status.DELIVERED],
        failed=sms[Status.FAILED] + sms[Status.UNDELIVERED],
        by_email=channels[Channel.EMAIL],
        nowhere=channels[Channel.NONE],
        email_waiting=email_waiting,
        scheduled=statuses[Status.SCHEDULED],
        send_at=waiting_until,
        canceled=statuses[Status.CANCELED],
        first_leaves_at=first_leaves_at,
        last_leaves_at=last_leaves_at,
    )


def leaves_words(at: datetime, now: datetime, zone: Any) -> str:
    """When a paced text leaves, institution time: "about 14:32", "tomorrow about 08:01" or
    "on 2026-12-24 about 08:01"."""
    local, today = at.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        return f"about {local:%H:%M}"
    if local.date() == today + timedelta(days=1):
        return f"tomorrow about {local:%H:%M}"
    return f"on {local:%Y-%m-%d} about {local:%H:%M}"


def pace_words(progress: Progress, now: datetime, zone: Any) -> str:
    """While texts wait for their number's pace (K7), when the last leaves, institution time,
    quiet hours counted: "The last text leaves about 14:32 ..."; "" when none waits (then the
    configuration is not read)."""
    first, last = progress.first_leaves_at, progress.last_leaves_at
    if first is None or last is None or not progress.queued:
        return ""
    configuration = sms_admin_services.configuration_get()
    leaves = pacing.departure(
        first, last, now, (configuration.quiet_hours_start, configuration.quiet_hours_end)
    )
    return (
        f"The last text leaves {leaves_words(leaves, now, zone)}: texts leave each sender number "
        "at a steady pace, so the phone company takes them all."
    )


# --- choosing the people of a cohort on the cohort page --------------------------------------

_SIS_SEPARATORS = re.compile(r"[,;\r\n]+")


def sis_ids_parse(text: str) -> list[str]:
    """SIS ids pasted one per line or separated by commas (or semicolons), in order, once each."""
    return list(dict.fromkeys(t.strip() for t in _SIS_SEPARATORS.split(text) if t.strip()))


@dataclass(frozen=True)
class Selection:
    """The people a cohort page names: ticked rows, everyone matching the People list's filters
    ("select all"), and pasted SIS ids. `unknown_sis_ids` are pasted ids nobody has (listed back
    to the user, never dropped silently); the viewer is left out (nobody texts themselves)."""

    ids: list[int]
    unknown_sis_ids: list[str]
    left_out_self: bool
    too_many: bool


def cohort_selection(
    *,
    viewer_id: int | None,
    person_ids: Iterable[int] = (),
    matching: tuple[str, str] | None = None,
    sis_text: str = "",
    limit: int = 10_000,
) -> Selection:
    """Who the page names, at most `limit` (+1, to say there are too many): 1 query per source.

    `matching`: (search, role code) of the People list when "select all matching" was chosen.
    """
    wanted: dict[int, None] = dict.fromkeys(person_ids)
    if wanted:
        wanted = dict.fromkeys(
            Person.objects.filter(pk__in=list(wanted))
            .order_by("last_name", "first_name", "id")
            .values_list("pk", flat=True)
        )
    if matching is not None:
        search, role = matching
        found = people_selectors.person_search(search, role).values_list("pk", flat=True)
        wanted.update(dict.fromkeys(found[: limit + 2]))
    unknown: list[str] = []
    tokens = sis_ids_parse(sis_text)
    if tokens:
        known = dict(
            Person.objects.filter(src_system_id__in=tokens).values_list("src_system_id", "pk")
        )
        unknown = [t for t in tokens if t not in known]
        wanted.update(dict.fromkeys(known[t] for t in tokens if t in known))
    left_out = viewer_id is not None and viewer_id in wanted
    wanted.pop(viewer_id, None)  # type: ignore[arg-type]
    ids = list(wanted)
    return Selection(
        ids=ids[:limit], unknown_sis_ids=unknown, left_out_self=left_out, too_many=len(ids) > limit
    )


def longest_names(ids: list[int]) -> tuple[str, str]:
    """The longest first name and the longest last name among `ids` (2 queries): the compose
    counter measures the body merged with them, the longest text the cohort can make (its
    preview then checks every merged text)."""
    people = Person.objects.filter(pk__in=ids).order_by()
    first = (
        people.order_by(Length("first_name").desc()).values_list("first_name", flat=True).first()
    )
    last = people.order_by(Length("last_name").desc()).values_list("last_name", flat=True).first()
    return first or "", last or ""
