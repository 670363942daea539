"""The filters of the administrators' insight pages: analytics month, opt-out report dates,
reclaim report idle days. Each parses through the same function as the API (one rule)."""

from __future__ import annotations

from typing import Any

from django import forms

from messaging import analytics, reclaim
from messaging.opt_out_report import ChangeKind, OptOutFilter


class AnalyticsMonthForm(forms.Form):
    month = forms.CharField(
        label="Month",
        required=False,
        max_length=20,
        help_text="YYYY-MM; this month when empty",
        widget=forms.TextInput(attrs={"type": "month"}),
    )

    def clean_month(self) -> analytics.Month:
        try:
            return analytics.month_parse(self.cleaned_data.get("month"))
        except analytics.MonthError as exc:
            raise forms.ValidationError(str(exc)) from None


class OptOutReportForm(forms.Form):
    start = forms.DateField(
        label="From date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
    )
    end = forms.DateField(
        label="To date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
    )
    kind = forms.ChoiceField(
        label="Change",
        required=False,
        choices=[("", "Both"), *ChangeKind.choices],
        error_messages={"invalid_choice": "Choose Both, Became SMS Disabled or lifted."},
    )

    report_filter: OptOutFilter

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is not None and end is not None and end < start:
            self.add_error("end", "The end of the date range is before its start.")
        if not self.errors:
            self.report_filter = OptOutFilter(start=start, end=end, kind=cleaned.get("kind") or "")
        return cleaned


class ReclaimForm(forms.Form):
    idle_days = forms.CharField(
        label="Idle for at least (days)",
        required=False,
        max_length=20,
        widget=forms.NumberInput(attrs={"min": 1, "max": reclaim.MAX_IDLE_DAYS}),
    )

    def clean_idle_days(self) -> int:
        try:
            return reclaim.idle_days_parse(self.cleaned_data.get("idle_days"))
        except reclaim.IdleDaysError as exc:
            raise forms.ValidationError(str(exc)) from None
