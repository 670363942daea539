"""The inbox pages (V3-V5): the caller's inbox, the shared inbox and any staff member's inbox for
administrators (read-only), a conversation of those two, and the live "changed since" answer
every open page polls (V4)."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.api import is_administrator
from config.pages import administrator_required, staff_required
from messaging import conversation, inbox, inbox_services, live
from messaging.conversation import SHARED, Owner
from people.models import Person

FILTERS = [
    (inbox.Filter.ALL, "All"),
    (inbox.Filter.UNREAD, "Unread"),
    (inbox.Filter.NEEDS_REPLY, "Needs reply"),
]


def _filter(request: HttpRequest) -> inbox.Filter:
    try:
        return inbox.Filter(request.GET.get("show", inbox.Filter.ALL))
    except ValueError:
        return inbox.Filter.ALL


def _live(request: HttpRequest, staff_id: int | None = None) -> live.PageLive:
    """The page's live-update token and cursor, watching `staff_id`'s inbox too."""
    return live.page_live(
        user_id=request.user.pk or 0,
        administrator=is_administrator(request.user),
        staff_id=staff_id,
    )


def _inbox_page(
    request: HttpRequest,
    *,
    owner: Owner | None,
    title: str,
    link_base: str,
    read_only: bool,
    staff: Person | None = None,
) -> HttpResponse:
    show = _filter(request)
    context: dict[str, Any] = {
        "nav": "inbox" if not read_only and owner is not None and not owner.shared else "",
        "title": title,
        "owner": owner,
        "staff": staff,
        "read_only": read_only,
        "filters": FILTERS,
        "show": show,
        "extra_query": f"show={show.value}&" if show != inbox.Filter.ALL else "",
        "page": inbox.conversation_page(owner, show, request.GET.get("page"))
        if owner is not None
        else None,
        "link_base": link_base,
        "staff_choices": inbox.staff_with_inbound() if is_administrator(request.user) else [],
        "live": _live(request, staff.pk if staff is not None else None),
    }
    if owner is not None and owner.shared:
        context["nav"] = "shared-inbox"
    return render(request, "messaging/inbox.html", context)


@staff_required
def inbox_own(request: HttpRequest) -> HttpResponse:
    """The caller's conversations; each links to the person page, where it is answered."""
    person = getattr(request.user, "person", None)
    return _inbox_page(
        request,
        owner=Owner(person.pk) if person is not None else None,
        title="Inbox",
        link_base="",
        read_only=False,
    )


@administrator_required
def inbox_shared(request: HttpRequest) -> HttpResponse:
    return _inbox_page(
        request,
        owner=SHARED,
        title="Shared inbox",
        link_base=reverse("inbox-shared"),
        read_only=False,
    )


@administrator_required
def inbox_staff(request: HttpRequest, staff_id: int) -> HttpResponse:
    """Another staff member's inbox, read-only: opening a conversation here marks nothing."""
    staff = get_object_or_404(Person, pk=staff_id)
    return _inbox_page(
        request,
        owner=Owner(staff.pk),
        title=f"Inbox of {staff.full_name}",
        link_base=reverse("inbox-staff", args=[staff.pk]),
        read_only=True,
        staff=staff,
    )


@administrator_required
def inbox_choose(request: HttpRequest) -> HttpResponse:
    """The administrators' "Open the inbox of" form: ?staff=ID goes to that inbox."""
    try:
        staff_id = int(request.GET.get("staff", ""))
    except ValueError:
        raise Http404("Choose a staff member.") from None
    return redirect("inbox-staff", staff_id=get_object_or_404(Person, pk=staff_id).pk)


def _conversation_page(
    request: HttpRequest, *, owner: Owner, person: Person, back: str, title: str, read_only: bool
) -> HttpResponse:
    if not read_only:
        inbox_services.conversation_mark_read(owner=owner, person_id=person.pk)
    context = {
        "nav": "shared-inbox" if owner.shared else "",
        "title": title,
        "person": person,
        "back": back,
        "read_only": read_only,
        "conversation": conversation.conversation_of(owner, person),
        "live": _live(request, owner.staff_id),
    }
    return render(request, "messaging/inbox_conversation.html", context)


@administrator_required
def conversation_shared(request: HttpRequest, person_id: int) -> HttpResponse:
    """A shared-inbox conversation; an administrator opening it marks it read."""
    person = get_object_or_404(Person, pk=person_id)
    return _conversation_page(
        request,
        owner=SHARED,
        person=person,
        back=reverse("inbox-shared"),
        title=f"Shared inbox: {person.full_name}",
        read_only=False,
    )


@administrator_required
def conversation_staff(request: HttpRequest, staff_id: int, person_id: int) -> HttpResponse:
    staff = get_object_or_404(Person, pk=staff_id)
    person = get_object_or_404(Person, pk=person_id)
    return _conversation_page(
        request,
        owner=Owner(staff.pk),
        person=person,
        back=reverse("inbox-staff", args=[staff.pk]),
        title=f"{staff.full_name} and {person.full_name}",
        read_only=True,
    )


@never_cache
@require_GET
def inbox_changes(request: HttpRequest) -> HttpResponse:
    """GET ?since=<cursor> with the page's X-Live-Token header: 204 (no body) when nothing the
    page shows changed, else 200 with the new cursor and unread counts. One query; no session
    or user is read (the token says who is asking and what they may watch)."""
    try:
        scope = live.token_scope(request.headers.get("X-Live-Token", ""))
    except signing.BadSignature:
        return JsonResponse(
            {"detail": "This page's live updates have expired; reload the page."}, status=403
        )
    state = live.live_state(scope)
    if request.GET.get("since") == state.cursor:
        return HttpResponse(status=204)
    return JsonResponse(
        {"cursor": state.cursor, "unread": state.unread, "shared_unread": state.shared_unread}
    )
