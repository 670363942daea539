"""The SMS Configuration page: General Settings, Email Notifications and Twilio tabs, and the
change history (C1-C10, S8). Each tab saves on its own through configuration_update."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from config.pages import administrator_required, paginate
from sms_admin import forecast, notifications, pool, selectors, services
from sms_admin.forms import (
    EmailNotificationsForm,
    GeneralSettingsForm,
    LimitsForm,
    NumberReuseForm,
    PacingForm,
    SenderNumberForm,
)
from sms_admin.models import SenderAssignment

# The extra tag of a message shown in the Twilio tab's pool section rather than atop the page.
POOL_NEWS = "pool"

TABS = [
    ("general", "General Settings", "sms-config-general"),
    ("email", "Email Notifications", "sms-config-email"),
    ("twilio", "Twilio", "sms-config-twilio"),
    ("history", "Change history", "sms-config-history"),
]


def _render(request: HttpRequest, tab: str, template: str, **context: Any) -> HttpResponse:
    context.update(tabs=TABS, tab=tab, nav="config")
    return render(request, f"sms_admin/{template}", context)


def _save(request: HttpRequest, form: forms.Form) -> bool:
    """Apply a valid tab form through the service; errors land next to their fields."""
    if not form.is_valid():
        return False
    changes = form.changes() if isinstance(form, GeneralSettingsForm) else form.cleaned_data
    try:
        services.configuration_update(actor=request.user, **changes)
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    messages.success(request, "Saved.")
    return True


@administrator_required
def general(request: HttpRequest) -> HttpResponse:
    config = services.configuration_get()
    form = GeneralSettingsForm(
        request.POST if request.method == "POST" else None,
        initial=GeneralSettingsForm.initial_from(config),
    )
    if request.method == "POST" and _save(request, form):
        return redirect("sms-config-general")
    return _render(request, "general", "general.html", form=form)


@administrator_required
def email(request: HttpRequest) -> HttpResponse:
    config = services.configuration_get()
    form = EmailNotificationsForm(
        request.POST if request.method == "POST" else None,
        initial=EmailNotificationsForm.initial_from(config),
    )
    if request.method == "POST" and _save(request, form):
        return redirect("sms-config-email")
    return _render(
        request,
        "email",
        "email.html",
        form=form,
        placeholders=notifications.PLACEHOLDERS,
        sample=notifications.SAMPLE,
        preview_subject=_preview(config.reply_notification_subject),
        preview_body=_preview(config.reply_notification_body),
    )


def _preview(template: str) -> str:
    try:
        notifications.template_validate(template)
    except ValidationError:
        return ""
    return notifications.template_render(template, notifications.SAMPLE)


@administrator_required
def twilio(request: HttpRequest) -> HttpResponse:
    # Each section saves on its own; its submit button names it.
    return _twilio(request, request.POST.get("save", "limits") if request.method == "POST" else "")


def _twilio(request: HttpRequest, section: str) -> HttpResponse:
    """The Twilio tab, saving `section` ("" for none); a refused form is shown with its errors."""
    config = services.configuration_get()
    editable = bool(request.user.is_superuser)
    sender_form = SenderNumberForm(request.POST if section == "pool" else None)
    limits = LimitsForm(
        request.POST if section == "limits" else None,
        initial=LimitsForm.initial_from(config),
        editable=editable,
    )
    reuse = NumberReuseForm(
        request.POST if section == "number-reuse" else None,
        initial=NumberReuseForm.initial_from(config),
    )
    pacing = PacingForm(
        request.POST if section == "pacing" else None,
        initial=PacingForm.initial_from(config),
    )
    if section == "number-reuse":
        if _save(request, reuse):
            return redirect(reverse("sms-config-twilio") + "#number-reuse")
    elif section == "pacing":
        if _save(request, pacing):
            return redirect(reverse("sms-config-twilio") + "#pacing")
    elif section == "pool":
        if _sender_add(request, sender_form):
            return redirect(reverse("sms-config-twilio") + "#pool")
    elif section:
        if not editable:
            raise PermissionDenied(services.PROVISIONED_REFUSAL)
        if _save(request, limits):
            return redirect("sms-config-twilio")
    search = request.GET.get("q", "").replace("\x00", "").strip()
    usage, pace = pool.monthly_usage_outlook(limit=config.sms_message_limit)
    assigned = selectors.sender_assignments_active_count()
    students_only = request.GET.get("holder") == "students"
    # The pool's own news is shown in the pool section, where the page opens after adding.
    notes = list(messages.get_messages(request))
    return _render(
        request,
        "twilio",
        "twilio.html",
        config=config,
        limits=limits,
        limits_editable=editable,
        reuse=reuse,
        pacing=pacing,
        sent=usage.sent,
        forecast=pace,
        sent_meter=forecast.UsageMeter(usage.sent, config.sms_message_limit),
        assigned=assigned,
        assigned_meter=forecast.UsageMeter(assigned, config.sms_phone_number_limit),
        health=selectors.twilio_health(),
        pool=selectors.sender_pool(),
        sender_form=sender_form,
        messages=[m for m in notes if POOL_NEWS not in (m.extra_tags or "").split()],
        pool_messages=[m for m in notes if POOL_NEWS in (m.extra_tags or "").split()],
        search=search,
        students_only=students_only,
        extra_query="holder=students&" if students_only else "",
        page=paginate(
            request, selectors.sender_assignment_grid(search, students_only=students_only)
        ),
    )


@administrator_required
@require_POST
def sender_add(request: HttpRequest) -> HttpResponse:
    """The pool's form at its earlier address: answered as the Twilio tab's."""
    return _twilio(request, "pool")


def _sender_add(request: HttpRequest, form: SenderNumberForm) -> bool:
    """Add the form's number to the pool, announced in the pool section; False with the reason
    at the field when it is refused."""
    if not form.is_valid():
        return False
    try:
        sender = services.sender_number_add(number=form.cleaned_data["number"], actor=request.user)
    except ValidationError as exc:
        form.add_error("number", " ".join(exc.messages))
        return False
    messages.success(request, f"{sender.number} added to the pool.", extra_tags=POOL_NEWS)
    return True


@administrator_required
@require_POST
def assignment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        assignment = pool.sender_assignment_release(assignment_id=pk, actor=request.user)
    except SenderAssignment.DoesNotExist:
        raise Http404(f"There is no number assignment with id {pk}.") from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{assignment.sender_number.number} is no longer assigned to "
            f"{assignment.person.full_name}; it is free for the next new sender.",
        )
    # Back to the page the release came from (the grid, or the reclaim report), never off-site.
    back = request.POST.get("next", "")
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("sms-config-twilio")
    return redirect(back)


@administrator_required
def history(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.configuration_history(), per_page=50)
    return _render(
        request,
        "history",
        "history.html",
        page=page,
        lines=selectors.configuration_history_lines(page),
    )
