"""Forms of messaging pages: the person page's compose box (S5, C8) and the Message Report's
filters (S7)."""

from __future__ import annotations

from typing import Any

from django import forms

from messaging import report
from messaging.models import Channel, Direction, FailureReason, Status


class ComposeForm(forms.Form):
    body = forms.CharField(
        label="Text message",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Write a message first: an empty text cannot be sent."},
    )

    def __init__(self, *args: Any, max_length: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_length = max_length

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError("Write a message first: an empty text cannot be sent.")
        if len(body) > self.max_length:
            raise forms.ValidationError(
                f"The text is {len(body)} characters; the limit is {self.max_length} "
                f"(smsMaxLength). Shorten it by {len(body) - self.max_length}."
            )
        return body


def _options(choices: list[tuple[str, str]], every: str) -> list[tuple[str, str]]:
    return [("", every), *choices]


class MessageReportForm(forms.Form):
    """The Message Report's filters (S7). Field names are the API's query parameters, and the
    values are checked by messaging.report, the same parser the API uses; its sentences become
    errors next to the fields."""

    sender = forms.CharField(
        label="From",
        required=False,
        max_length=200,
        help_text="Name, email, SIS ID or person id",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    recipient = forms.CharField(
        label="To",
        required=False,
        max_length=200,
        help_text="Name, email, SIS ID or person id",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    channel = forms.CharField(
        label="Channel",
        required=False,
        widget=forms.Select(choices=_options(Channel.choices, "All")),
    )
    status = forms.CharField(
        label="Status", required=False, widget=forms.Select(choices=_options(Status.choices, "All"))
    )
    failure_reason = forms.CharField(
        label="Failure reason",
        required=False,
        widget=forms.Select(choices=_options(FailureReason.choices, "Any")),
    )
    direction = forms.CharField(
        label="Direction",
        required=False,
        widget=forms.Select(choices=_options(Direction.choices, "Both")),
    )
    created_after = forms.CharField(
        label="From date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_before = forms.CharField(
        label="To date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    report_filter: report.ReportFilter

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            self.report_filter = report.report_filter_parse(cleaned, people_by_name=True)
        except report.ReportFilterError as exc:
            for name, text in exc.errors.items():
                self.add_error(name, text)
        return cleaned


class MessageTemplateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)
    body = forms.CharField(
        label="Text",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="{first_name}, {last_name}, {staff_first_name} and {staff_last_name} are "
        "replaced for each recipient when the text is sent.",
    )
