"""People pages: the start page (people search), the phone edit control of the person page, the
Person Phone data view (P5) and the prospect upload (P6)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_POST

from config.pages import administrator_required, paginate, staff_required
from people import prospects, selectors, services
from people.forms import (
    PhoneDataFilterForm,
    PhoneEditForm,
    ProspectConfirmForm,
    ProspectUploadForm,
)
from people.models import PersonPhone
from sms_admin import services as sms_admin_services

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").replace("\x00", "").strip()
    people = selectors.person_search(search)
    return render(
        request,
        "people/home.html",
        {"nav": "people", "search": search, "page": paginate(request, people)},
    )


@staff_required
@require_POST
def phone_edit(request: HttpRequest, phone_id: int) -> HttpResponse:
    phone = get_object_or_404(PersonPhone, pk=phone_id, deleted=False)
    back = reverse("person-detail", args=[phone.person_id]) + "#phones"
    form = PhoneEditForm(request.POST)
    if not form.is_valid():
        if "reason" in form.errors:
            messages.error(request, f"Reason: {form.errors['reason'][0]}")
        else:
            messages.error(request, "Choose one of the SMS statuses.")
        return redirect(back)
    shown = form.cleaned_data["shown_status"]
    # A status shown disabled (the person's own opt-out, for non-administrators) is not posted.
    status = form.cleaned_data["sms_status"] or shown
    try:
        services.phone_update(
            phone=phone,
            actor=request.user,
            # Only a status the editor changed is applied, and only over the one they saw.
            sms_status=status if status != shown else None,
            expected_status=shown if status != shown else None,
            verified=form.cleaned_data["verified"],
            reason=form.cleaned_data["reason"],
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect(back)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, f"{phone.number} saved.")
    return redirect(back)


@administrator_required
def phone_data(request: HttpRequest) -> HttpResponse:
    form = PhoneDataFilterForm(request.GET)
    rows = PersonPhone.objects.select_related("person", "phone_type").order_by("id")
    deleted, search = "", ""
    if form.is_valid():
        deleted, search = form.cleaned_data["deleted"], form.cleaned_data["q"].strip()
    if deleted:
        rows = rows.filter(deleted=deleted == "true")
    if search:
        rows = rows.filter(
            Q(number__icontains=search)
            | Q(src_system_id__icontains=search)
            | Q(phone_type_src_system_id__icontains=search)
            | Q(person__src_system_id__icontains=search)
        )
    return render(
        request,
        "people/phone_data.html",
        {
            "nav": "phones",
            "form": form,
            "page": paginate(request, rows, per_page=50),
            "search": search,
            "extra_query": f"deleted={deleted}&" if deleted else "",
        },
    )


@administrator_required
def prospect_upload(request: HttpRequest) -> HttpResponse:
    default_type = sms_admin_services.configuration_get().default_sms_phone_type
    context: dict[str, object] = {"nav": "prospects"}
    upload = ProspectUploadForm()
    if request.method == "POST" and "csv_text" in request.POST:
        confirm = ProspectConfirmForm(request.POST)
        if not confirm.is_valid():
            # Forms refuse NUL characters and the like; such a confirmation was not ours.
            messages.error(request, "The upload could not be read back; upload the file again.")
            context["upload"] = upload
            return render(request, "people/prospect_upload.html", context)
        text = confirm.cleaned_data["csv_text"]
        try:
            result = prospects.prospects_import(
                text=text, actor=request.user, default_phone_type=default_type
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            people = f"{result.people} {'person' if result.people == 1 else 'people'}"
            phones = f"{result.phones} phone{pluralize(result.phones)}"
            messages.success(request, f"Imported {people} and {phones}, marked verified by you.")
            return redirect("prospect-upload")
        context["check"] = prospects.prospect_csv_check(text, default_phone_type=default_type)
        context["confirm"] = ProspectConfirmForm(initial={"csv_text": text})
    elif request.method == "POST":
        upload = ProspectUploadForm(request.POST, request.FILES)
        if upload.is_valid():
            uploaded = _read_upload(upload)
            if uploaded is not None:
                context["check"] = prospects.prospect_csv_check(
                    uploaded, default_phone_type=default_type
                )
                context["confirm"] = ProspectConfirmForm(initial={"csv_text": uploaded})
    context["upload"] = upload
    return render(request, "people/prospect_upload.html", context)


def _read_upload(form: ProspectUploadForm) -> str | None:
    file = form.cleaned_data["file"]
    if file.size > MAX_UPLOAD_BYTES:
        form.add_error("file", "The file is larger than 2 MB; split it into smaller uploads.")
        return None
    try:
        text = str(file.read().decode("utf-8-sig"))
    except UnicodeDecodeError:
        form.add_error("file", "The file is not UTF-8 text; save it as CSV (UTF-8) and retry.")
        return None
    if "\x00" in text:
        form.add_error("file", "The file contains NUL characters: it is not a CSV text file.")
        return None
    return text
