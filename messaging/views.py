"""The person page (staff): phones, route, compose box, conversation, status history (P3, P4,
R6, S1, S5, T10), and the compose form's target; the Message Report and its CSV export (S7);
the confirmation before a number assignment is deleted (Q2)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from config.api import is_administrator
from config.pages import administrator_required, paginate, staff_required
from messaging import conversation, inbox_services, report, segments, selectors
from messaging import services as messaging_services
from messaging.conversation import Owner
from messaging.forms import ComposeForm, MessageReportForm
from people import selectors as people_selectors
from people import services as people_services
from people.forms import PhoneEditForm
from people.models import Person, PersonPhone, PhoneStatusChange, SmsStatus
from sms_admin import services as sms_admin_services
from sms_admin.models import SenderAssignment


def _viewer(request: HttpRequest) -> Person | None:
    return getattr(request.user, "person", None)


def _person(person_id: int) -> Person:
    return get_object_or_404(people_selectors.person_list(), pk=person_id)


def _page(
    request: HttpRequest, person: Person, compose: ComposeForm | None = None, status: int = 200
) -> HttpResponse:
    viewer = _viewer(request)
    send = selectors.send_context(viewer.pk if viewer is not None else None)
    phones = [p for p in people_selectors.person_phones(person) if not p.deleted]
    opt_outs = people_selectors.phones_opt_out_changes(
        p.pk for p in phones if p.sms_status == SmsStatus.DISABLED
    )
    may_lift = is_administrator(request.user)
    context: dict[str, Any] = {
        "nav": "people",
        "person": person,
        "roles": list(person.roles.all()),
        "phones": [_phone_row(p, opt_outs.get(p.pk), may_lift=may_lift) for p in phones],
        "may_lift_opt_out": may_lift,
        "last_verified": people_selectors.person_last_verified_phone(person),
        "route": selectors.route_for_person(person, config=send.config),
        "success_team": conversation.success_team(person) if person.is_student else [],
        "history": PhoneStatusChange.objects.filter(phone__person=person)
        .select_related("phone", "changed_by")
        .order_by("-changed_at", "-id")[:50],
        "conversation": conversation.conversation(staff=viewer, person=person),
        "compose_refusal": selectors.send_refusal(viewer, recipient_id=person.pk, context=send),
        "compose": compose or ComposeForm(max_length=send.sms_max_length),
        "max_length": send.sms_max_length,
        "gsm7_tables": segments.gsm7_tables(),
    }
    return render(request, "messaging/person_detail.html", context, status=status)


def _phone_row(
    phone: PersonPhone, opt_out: PhoneStatusChange | None, *, may_lift: bool
) -> tuple[PersonPhone, PhoneEditForm | None, str]:
    """A phone, its edit form (none for a system number) and, when the person's own opt-out
    disabled it, why and who may lift it."""
    if phone.is_system:
        return phone, None, ""
    note = ""
    if opt_out is not None:
        note = (
            f"{people_services.opt_out_explanation(opt_out)} To lift it, write the reason."
            if may_lift
            else people_services.opt_out_lift_refusal(opt_out)
        )
    return phone, PhoneEditForm.for_phone(phone, opt_out=opt_out, may_lift=may_lift), note


@staff_required
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _person(person_id)
    viewer = _viewer(request)
    if viewer is not None:
        # Opening the conversation marks it read for the viewer (V3), before the page is drawn.
        inbox_services.conversation_mark_read(owner=Owner(viewer.pk), person_id=person.pk)
    return _page(request, person)


@staff_required
@require_POST
def person_send(request: HttpRequest, person_id: int) -> HttpResponse:
    """Hand the compose form's text to the sending service (S1, S5, S6) and show where it went.

    The service decides: not permitted -> the 403 page (PermissionDenied); empty or too long ->
    the page again with the reason under the compose box (400). The form states the same
    rules in the same words as the browser's counter; a refusal it does not know (the
    configuration changed meanwhile) is shown with the service's words.
    """
    person = _person(person_id)
    viewer = _viewer(request)
    config = sms_admin_services.configuration_get()
    form = ComposeForm(request.POST, max_length=config.sms_max_length)
    try:
        message = messaging_services.message_send(
            sender=viewer, recipient_id=person.pk, body=form.data.get("body", "")
        )
    except ValidationError as exc:
        if form.is_valid():
            form.add_error("body", " ".join(exc.messages))
        return _page(request, person, compose=form, status=400)
    where = f" to {message.destination}" if message.destination else ""
    reason = f" ({message.get_failure_reason_display()})" if message.failure_reason else ""
    # Its status moves on (queued, sent, delivered): the conversation below shows the current one.
    messages.success(request, f"Message recorded: {message.get_channel_display()}{where}{reason}.")
    return redirect(reverse("person-detail", args=[person.pk]) + f"#message-{message.pk}")


# The Message Report (S7, S9) ------------------------------------------------------------------


def _report_query(form: MessageReportForm) -> str:
    """The filters of `form` as a query string (no page), for the pager and the CSV link."""
    return urlencode(
        [(name, form.data[name]) for name in form.fields if form.data.get(name, "").strip()]
    )


def _report_page(request: HttpRequest, form: MessageReportForm) -> HttpResponse:
    valid = form.is_valid()
    query = _report_query(form)
    context: dict[str, Any] = {
        "nav": "report",
        "time_zone": report.institution_zone().key,
        "form": form,
        "page": paginate(request, report.message_report(form.report_filter)) if valid else None,
        "query": query,
        "extra_query": f"{query}&" if query else "",
    }
    # A filter value that is not understood is the request's fault: the page says which (400).
    return render(request, "messaging/message_report.html", context, status=200 if valid else 400)


@administrator_required
def message_report(request: HttpRequest) -> HttpResponse:
    return _report_page(request, MessageReportForm(request.GET))


@administrator_required
def message_report_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered report as CSV, streamed row by row however long it is."""
    form = MessageReportForm(request.GET)
    if not form.is_valid():
        return _report_page(request, form)
    rows = report.message_report(form.report_filter)
    response = StreamingHttpResponse(
        report.report_csv_lines(rows), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime(timezone.now(), report.institution_zone()).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="message-report-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@administrator_required
def assignment_delete_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The question before an assignment is deleted on the Phone Number Usage grid (Q2): how
    many people were texted from the number within the reply window, and that their replies
    keep reaching whoever texted them (V2). The answer posts to sms_admin's delete view."""
    assignment = get_object_or_404(
        SenderAssignment.objects.select_related("person", "sender_number"), pk=pk
    )
    config = sms_admin_services.configuration_get()
    back = request.GET.get("next", "")
    # Back to the page that asked (the grid, the reclaim report), never to another site.
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}
    ):
        back = reverse("sms-config-twilio") + "#usage"
    context = {
        "nav": "config",
        "assignment": assignment,
        "facts": selectors.number_release_facts(
            number=assignment.sender_number.number, reply_window_days=config.reply_window_days
        ),
        "quarantine_days": config.number_quarantine_days,
        "back": back,
    }
    return render(request, "messaging/assignment_delete_confirm.html", context)
