"""The person page (staff): phones, route, compose box, conversation, status history (P3, P4,
R6, S1, S5, T10), and the compose form's target; the Message Report and its CSV export (S7);
the confirmation before a number assignment is deleted (Q2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from config.api import is_administrator
from config.pages import administrator_required, paginate, staff_required
from messaging import (
    conversation,
    delivery,
    forms,
    inbox_services,
    merge,
    quiet_hours,
    report,
    segments,
    selectors,
)
from messaging import services as messaging_services
from messaging.conversation import Owner
from messaging.forms import ComposeForm, MessageReportForm
from messaging.message_templates import templates_list
from messaging.models import Channel, FailureReason, Message, Status
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
    refusal = selectors.send_refusal(viewer, recipient_id=person.pk, context=send)
    preview = selectors.send_preview(person, viewer=viewer, context=send, may_send=not refusal)
    opt_outs = people_selectors.phones_opt_out_changes(
        p.pk for p in phones if p.sms_status == SmsStatus.DISABLED
    )
    may_lift = is_administrator(request.user)
    earliest, latest = forms.send_at_bounds(timezone.now())
    context: dict[str, Any] = {
        "nav": "people",
        "person": person,
        "roles": list(person.roles.all()),
        "phones": [_phone_row(p, opt_outs.get(p.pk), may_lift=may_lift) for p in phones],
        "may_lift_opt_out": may_lift,
        "last_verified": people_selectors.person_last_verified_phone(person),
        "route": preview.route,
        "preview": preview,
        "success_team": conversation.success_team(person) if person.is_student else [],
        "history": PhoneStatusChange.objects.filter(phone__person=person)
        .select_related("phone", "changed_by")
        .order_by("-changed_at", "-id")[:50],
        "conversation": conversation.conversation(staff=viewer, person=person),
        "viewer_id": viewer.pk if viewer is not None else None,
        "quiet_note": _quiet_note(send, person),
        "compose_refusal": refusal,
        "compose": compose or ComposeForm(max_length=send.sms_max_length),
        "max_length": send.sms_max_length,
        "gsm7_tables": segments.gsm7_tables(),
        # Templates are offered only to staff who may send (K4).
        "templates": list(templates_list()) if not refusal else [],
        "merge_fields": ["{" + name + "}" for name in merge.FIELDS],
        # The counter measures the text as this person will get it (K3).
        "merge_names": merge.values_for(
            first_name=person.first_name,
            last_name=person.last_name,
            staff_first_name=viewer.first_name if viewer is not None else "",
            staff_last_name=viewer.last_name if viewer is not None else "",
        ),
        "time_zone": timezone.get_current_timezone_name(),
        "send_at_min": earliest,
        "send_at_max": latest,
        "quiet_window": quiet_hours.window_words(send.quiet_hours_start, send.quiet_hours_end),
    }
    return render(request, "messaging/person_detail.html", context, status=status)


def _quiet_note(send: selectors.SendContext, person: Person) -> str:
    """What the compose box says during quiet hours: when a text sent now will go."""
    now, zone = timezone.now(), timezone.get_current_timezone()
    held = quiet_hours.next_allowed(now, send.quiet_hours_start, send.quiet_hours_end, zone)
    if held == now:
        return ""
    window = quiet_hours.window_words(send.quiet_hours_start, send.quiet_hours_end)
    if selectors.texted_recently([person.pk], now=now):
        return (
            f"Quiet hours ({window}): {person.full_name} texted in the last 2 hours, so your "
            "answer goes at once."
        )
    return (
        f"Quiet hours ({window}): a text you send now "
        f"{quiet_hours.scheduled_words(held, now, zone)}."
    )


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


def _announce(
    request: HttpRequest,
    message: Message,
    *,
    person: Person,
    viewer: Person | None,
    asked: datetime | None = None,
) -> None:
    """Say where the text went: success only for a text; a warning when it went by email instead,
    an error when nothing was delivered, each with the reason in words; when it waits (its own
    `send_at`, `asked`, or quiet hours), when it will go, never as a success."""
    if message.status == Status.SCHEDULED and message.send_at is not None:
        send = selectors.send_context(viewer.pk if viewer is not None else None)
        messages.info(
            request,
            quiet_hours.scheduled_announcement(
                message.send_at,
                asked=asked,
                start=send.quiet_hours_start,
                end=send.quiet_hours_end,
                zone=timezone.get_current_timezone(),
            ),
        )
    elif message.channel == Channel.SMS:
        # Its status moves on (queued, sent, delivered): the conversation shows the current one.
        messages.success(request, f"Message recorded: SMS to {message.destination}.")
    elif message.channel == Channel.EMAIL:
        why = delivery.why_not_sms(message.failure_reason)
        messages.warning(
            request,
            f"Not sent as a text: it goes by email to {message.destination} instead, "
            f"because {why}.",
        )
    else:
        # A message that goes nowhere records NO_EMAIL; the plan, read again, names the cause
        # that kept it from being a text as well (a month's limit, no sender number).
        send = selectors.send_context(viewer.pk if viewer is not None else None)
        plan = selectors.send_preview(person, viewer=viewer, context=send, may_send=True).plan
        why = (
            plan.because
            if plan.channel == Channel.NONE
            else delivery.why_not_sms(FailureReason.NO_EMAIL)
        )
        messages.error(request, f"Nothing was delivered: {why}.")


@staff_required
@require_POST
def message_cancel(request: HttpRequest, person_id: int, message_id: int) -> HttpResponse:
    """The conversation's Cancel button on a scheduled text (its sender or an administrator)."""
    person = _person(person_id)
    try:
        messaging_services.message_cancel(
            message_id=message_id,
            actor=_viewer(request),
            is_administrator=is_administrator(request.user),
        )
    except Message.DoesNotExist:
        raise Http404("There is no such message.") from None
    except messaging_services.NotCancelable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Cancelled: the scheduled text will not be sent.")
    return redirect(reverse("person-detail", args=[person.pk]) + f"#message-{message_id}")


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
    form.is_valid()
    if form.has_error("send_at"):
        # A "Send at" that is not a time a text may wait for records nothing; the refusal of a
        # sender who may not send still comes first.
        refusal = selectors.send_refusal(viewer, recipient_id=person.pk)
        if refusal:
            raise PermissionDenied(refusal)
        return _page(request, person, compose=form, status=400)
    send_at = form.cleaned_data.get("send_at")
    try:
        message = messaging_services.message_send(
            sender=viewer, recipient_id=person.pk, body=form.data.get("body", ""), send_at=send_at
        )
    except ValidationError as exc:
        for name, texts in (exc.message_dict if hasattr(exc, "error_dict") else {}).items():
            field = "send_at" if name == "send_at" else "body"
            if not form.has_error(field):
                form.add_error(field, " ".join(texts))
        if not hasattr(exc, "error_dict") and not form.has_error("body"):
            form.add_error("body", " ".join(exc.messages))
        return _page(request, person, compose=form, status=400)
    _announce(request, message, person=person, viewer=viewer, asked=send_at)
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
