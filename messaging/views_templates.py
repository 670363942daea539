"""The administrators' page of message templates: list, add, change, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from config.pages import administrator_required
from messaging import message_templates
from messaging.forms import MessageTemplateForm
from messaging.models import MessageTemplate


def _save(form: MessageTemplateForm, template: MessageTemplate | None) -> bool:
    """Save the form through the service; its refusals land at their fields."""
    if not form.is_valid():
        return False
    try:
        message_templates.template_save(
            name=form.cleaned_data["name"], body=form.cleaned_data["body"], template=template
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    return True


@administrator_required
def template_list(request: HttpRequest) -> HttpResponse:
    form = MessageTemplateForm(request.POST or None)
    if request.method == "POST" and _save(form, None):
        messages.success(request, f"Template “{form.cleaned_data['name'].strip()}” added.")
        return redirect("message-templates")
    context = {
        "nav": "templates",
        "templates": message_templates.templates_list(),
        "form": form,
    }
    return render(
        request,
        "messaging/message_templates.html",
        context,
        status=400 if form.is_bound and form.errors else 200,
    )


@administrator_required
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template = get_object_or_404(MessageTemplate, pk=template_id)
    initial = {"name": template.name, "body": template.body}
    form = MessageTemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and _save(form, template):
        messages.success(request, f"Template “{template.name}” saved.")
        return redirect("message-templates")
    context = {"nav": "templates", "template": template, "form": form}
    return render(
        request,
        "messaging/message_template_edit.html",
        context,
        status=400 if form.is_bound and form.errors else 200,
    )


@administrator_required
@require_POST
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    template = get_object_or_404(MessageTemplate, pk=template_id)
    message_templates.template_delete(template=template)
    messages.success(request, f"Template “{template.name}” deleted.")
    return redirect("message-templates")
