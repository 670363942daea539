"""The cohort pages (K2): choose people (ticked on the People list, everyone matching its filters,
or pasted SIS ids), compose with a template and merge fields, preview, send; then follow the
cohort's progress.

The page keeps its selection in the form it posts to itself (ticked ids, the People list's
filters, the pasted text) and resolves it on every request (messaging.cohorts); the preview and
the send are the services' (`message_send_preview`, `message_send_bulk`), never re-implemented.
"Send at" (K5) is the person page's field (`ScheduleForm`): empty sends now.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from config.pages import staff_required
from messaging import cohorts, delivery, forms, merge, quiet_hours, segments, selectors, services
from messaging.api.serializers_send import COHORT_MAX
from messaging.message_templates import templates_list
from messaging.models import Channel
from people.models import Person, Role

MAX_ID = 2**63 - 1


def _viewer(request: HttpRequest) -> Person | None:
    return getattr(request.user, "person", None)


def _person_ids(data: QueryDict) -> tuple[list[int], list[str]]:
    ids: list[int] = []
    wrong: list[str] = []
    for value in data.getlist("person"):
        value = value.strip()
        if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID:
            ids.append(int(value))
        elif value:
            wrong.append(value)
    return ids, wrong


def _preview_rows(preview: services.Preview) -> dict[str, Any]:
    """The preview in the page's words: per channel, then why some would not go by text."""
    return {
        "count": preview.count,
        "sms": preview.channels.get(Channel.SMS, 0),
        "email": preview.channels.get(Channel.EMAIL, 0),
        "none": preview.channels.get(Channel.NONE, 0),
        "reasons": sorted(
            ((delivery.why_not_sms(code), n) for code, n in preview.reasons.items()),
            key=lambda row: -row[1],
        ),
        "segments": preview.segments,
        "total_segments": preview.total_segments,
        "monthly_remaining_after": preview.monthly_remaining_after,
        "estimated_cost": preview.estimated_cost,
        # When the texts would leave, in the institution's time (None: now).
        "leaves_at": timezone.localtime(preview.send_at) if preview.send_at else None,
        "last_leaves": cohorts.leaves_words(
            preview.last_leaves_at, timezone.now(), timezone.get_current_timezone()
        )
        if preview.last_leaves_at is not None
        else "",
    }


@staff_required
def cohort_compose(request: HttpRequest) -> HttpResponse:
    """GET: the page for the people chosen on the People list; POST: apply pasted ids
    (`action=update`), preview (`action=preview`) or send (`action=send`)."""
    data = request.POST if request.method == "POST" else request.GET
    viewer = _viewer(request)
    context = selectors.send_context(viewer.pk if viewer is not None else None)
    refusal = selectors.send_refusal(viewer, context=context)
    ids, wrong_ids = _person_ids(data)
    search, role = data.get("q", "").strip(), data.get("role", "").strip()
    everyone = data.get("all") == "1"
    sis_text = data.get("sis_ids", "")
    body = data.get("body", "")
    selection = cohorts.cohort_selection(
        viewer_id=viewer.pk if viewer is not None else None,
        person_ids=ids,
        matching=(search, role) if everyone else None,
        sis_text=sis_text,
        limit=COHORT_MAX,
    )
    errors: list[str] = []
    if wrong_ids:
        errors.append(f"Not person ids, left out: {', '.join(wrong_ids[:10])}.")
    if selection.too_many:
        errors.append(
            f"More than {COHORT_MAX:,} people are chosen; one send takes at most {COHORT_MAX:,}. "
            "Narrow the search or the role, or send in several parts."
        )
    preview = None
    action = data.get("action", "") if request.method == "POST" else ""
    schedule = forms.ScheduleForm(data if request.method == "POST" else None)
    status = 200
    if action in ("preview", "send") and not refusal and not selection.too_many:
        send_at = schedule.cleaned_data.get("send_at") if schedule.is_valid() else None
        try:
            if not schedule.is_valid():
                # Nothing is previewed or recorded for a time a text may not wait for.
                status = 400
            elif action == "send":
                result = services.message_send_bulk(
                    sender=viewer, recipient_ids=selection.ids, body=body, send_at=send_at
                )
                if result.scheduled and result.send_at is not None:
                    said = quiet_hours.scheduled_announcement(
                        result.send_at,
                        asked=send_at,
                        start=context.quiet_hours_start,
                        end=context.quiet_hours_end,
                        zone=timezone.get_current_timezone(),
                    )
                    gone = len(result.message_ids) - result.scheduled
                    if gone:
                        # Quiet hours hold a cohort sent now, except replies (K6).
                        said = (
                            f"{result.scheduled} of {len(result.message_ids)} texts: {said} "
                            f"The other {gone} went at once: those people texted in the "
                            "last 2 hours."
                        )
                    messages.info(request, said)
                return redirect("cohort-progress", cohort_id=result.cohort_id)
            else:
                preview = _preview_rows(
                    services.message_send_preview(
                        sender=viewer, recipient_ids=selection.ids, body=body, send_at=send_at
                    )
                )
        except ValidationError as exc:
            for name, texts in (exc.message_dict if hasattr(exc, "error_dict") else {}).items():
                if name == "send_at":
                    schedule.add_error("send_at", " ".join(texts))
                else:
                    errors += texts
            if not hasattr(exc, "error_dict"):
                errors += exc.messages
            status = 400
        except PermissionDenied as exc:
            errors.append(str(exc))
            status = 403
    elif action in ("preview", "send") and selection.too_many:
        status = 400
    earliest, latest = forms.send_at_bounds(timezone.now())
    first, last = cohorts.longest_names(selection.ids) if selection.ids else ("", "")
    return render(
        request,
        "messaging/cohort.html",
        {
            "nav": "people",
            "refusal": refusal,
            "selection": selection,
            "ticked": [pid for pid in ids if pid != getattr(viewer, "pk", None)],
            "search": search,
            "role": role,
            "role_name": Role.objects.filter(code=role).values_list("name", flat=True).first()
            if role
            else "",
            "everyone": everyone,
            "sis_text": sis_text,
            "body": body,
            "errors": errors,
            "preview": preview,
            "templates": templates_list() if not refusal else [],
            "schedule": schedule,
            "time_zone": timezone.get_current_timezone_name(),
            "send_at_min": earliest,
            "send_at_max": latest,
            "quiet_window": quiet_hours.window_words(
                context.quiet_hours_start, context.quiet_hours_end
            ),
            "merge_fields": ["{" + name + "}" for name in merge.FIELDS],
            "max_length": context.sms_max_length,
            "gsm7_tables": segments.gsm7_tables(),
            "longest": {
                "first_name": first,
                "last_name": last,
                "staff_first_name": viewer.first_name if viewer else "",
                "staff_last_name": viewer.last_name if viewer else "",
            },
        },
        status=status,
    )


@staff_required
def cohort_progress(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohorts.cohort_for_viewer(cohort_id, request.user)
    progress = cohorts.cohort_progress(cohort.pk)
    return render(
        request,
        "messaging/cohort_progress.html",
        {
            "nav": "people",
            "cohort": cohort,
            "progress": progress,
            "time_zone": timezone.get_current_timezone_name(),
            "pace": cohorts.pace_words(progress, timezone.now(), timezone.get_current_timezone()),
            "report_url": reverse("message-report") + f"?cohort={cohort.pk}",
        },
    )


@staff_required
def cohort_progress_json(request: HttpRequest, cohort_id: int) -> JsonResponse:
    """The progress page's counts, polled every 2 s: one aggregate query."""
    cohort = cohorts.cohort_for_viewer(cohort_id, request.user)
    progress = cohorts.cohort_progress(cohort.pk)
    return JsonResponse(
        {
            "count": cohort.count,
            "queued": progress.queued,
            "sent": progress.sent,
            "delivered": progress.delivered,
            "failed": progress.failed,
            "by_email": progress.by_email,
            "nowhere": progress.nowhere,
            "scheduled": progress.scheduled,
            "canceled": progress.canceled,
            "finished": progress.finished,
            "finished_words": progress.finished_words,
            "pace": cohorts.pace_words(progress, timezone.now(), timezone.get_current_timezone()),
        }
    )


@staff_required
@require_POST
def cohort_cancel(request: HttpRequest, cohort_id: int) -> HttpResponse:
    """The progress page's Cancel: the cohort's texts still scheduled will not go (its sender or
    an administrator, as `cohorts/{id}/cancel/`)."""
    cohort = cohorts.cohort_for_viewer(cohort_id, request.user)
    try:
        canceled = services.cohort_cancel(cohort_id=cohort.pk)
    except services.NothingScheduled as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Cancelled: {canceled} {'text' if canceled == 1 else 'texts'} that had not left yet "
            "will not be sent.",
        )
    return redirect("cohort-progress", cohort_id=cohort.pk)
