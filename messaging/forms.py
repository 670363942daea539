"""Forms of messaging pages: the person page's compose box (S5, C8), the "Send at" choice of the
compose box and the cohort page (K5), and the Message Report's filters (S7)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from messaging import report
from messaging import services as messaging_services
from messaging.models import Channel, Direction, FailureReason, Status

# What a browser's datetime-local input sends (seconds only when a page asks for them).
SEND_AT_FORMAT = "%Y-%m-%dT%H:%M"


def send_at_bounds(now: datetime) -> tuple[str, str]:
    """The earliest and latest "Send at" a page offers now, as datetime-local values in the
    institution's time zone (the input's min and max; the form checks them again)."""
    local = timezone.localtime(now).replace(second=0, microsecond=0)
    # The next whole minute that is at least SCHEDULE_AT_LEAST ahead.
    earliest = local + messaging_services.SCHEDULE_AT_LEAST + timedelta(minutes=1)
    latest = timezone.localtime(now + messaging_services.SCHEDULE_AT_MOST)
    return earliest.strftime(SEND_AT_FORMAT), latest.strftime(SEND_AT_FORMAT)


class LocalDateTimeField(forms.DateTimeField):
    """A date and time read on the institution's wall clock; one that clocks skip or repeat (a
    daylight-saving night) is refused in words, naming the field."""

    def to_python(self, value: Any) -> datetime | None:
        try:
            return super().to_python(value)
        except forms.ValidationError as exc:
            if exc.code != "ambiguous_timezone":
                raise
            zone = timezone.get_current_timezone_name()
            raise forms.ValidationError(
                f"Send at: {str(value).replace('T', ' ')} does not exist or happens twice in "
                f"{zone} (the clocks change that night); choose another time.",
                code="ambiguous_timezone",
            ) from None


class ScheduleForm(forms.Form):
    """The optional "Send at" of a text or a cohort (K5): empty sends now; otherwise a date and
    time in the institution's time zone (the browser's zone plays no part), to the minute, at
    least one minute and at most 90 days ahead; the bounds are the sending service's."""

    send_at = LocalDateTimeField(
        label="Send at",
        required=False,
        input_formats=[SEND_AT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=SEND_AT_FORMAT),
        error_messages={
            "invalid": "Send at: enter a date and a time, like 2026-12-24 09:30, or leave it "
            "empty to send now."
        },
    )

    def clean_send_at(self) -> datetime | None:
        send_at: datetime | None = self.cleaned_data.get("send_at")
        if send_at is None:
            return None
        # The page offers minutes; seconds typed elsewhere would only surprise.
        send_at = send_at.replace(second=0, microsecond=0)
        now = timezone.now()
        shown = timezone.localtime(send_at).strftime("%Y-%m-%d %H:%M")
        if send_at < now + messaging_services.SCHEDULE_AT_LEAST:
            raise forms.ValidationError(
                f"Send at: {shown} is in the past or less than a minute from now; choose a "
                "later time, or leave it empty to send now."
            )
        if send_at > now + messaging_services.SCHEDULE_AT_MOST:
            days = messaging_services.SCHEDULE_AT_MOST.days
            raise forms.ValidationError(
                f"Send at: {shown} is more than {days} days ahead; texts can be scheduled at "
                f"most {days} days in advance."
            )
        return send_at


class ComposeForm(ScheduleForm):
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
    cohort = forms.CharField(
        label="Cohort",
        required=False,
        max_length=20,
        help_text="The number of a cohort send",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
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
