"""Administrators' insight pages: analytics per month and staff member with its 12-month chart
and CSV (A3), the opt-out report and its CSV (A4), the reclaim report (A5). Each page reads
through one selector module; a filter value that is not understood is a 400 with the page's
error next to the field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from config.pages import administrator_required, paginate
from messaging import analytics, chart, opt_out_report, reclaim
from messaging.forms_insight import AnalyticsMonthForm, OptOutReportForm, ReclaimForm

TABS = [
    ("analytics", "Analytics", "insight-analytics"),
    ("opt-outs", "Opt-out report", "insight-opt-outs"),
    ("reclaim", "Numbers to reclaim", "insight-reclaim"),
]

SERIES = (
    chart.Series("Texts delivered", "#1d7a3e"),
    chart.Series("Texts failed", "#b3261e"),
    chart.Series("Texts awaiting an outcome", "#5b6673"),
    chart.Series("Sent by email instead", "#1f5fa8"),
)


def _render(
    request: HttpRequest, tab: str, template: str, status: int = 200, **context: Any
) -> HttpResponse:
    context.update(tabs=TABS, tab=tab, nav="insight")
    return render(request, f"messaging/{template}", context, status=status)


def _with_default(request: HttpRequest, name: str, value: str) -> Any:
    """The query parameters, with `name` filled in when absent or blank, so the field shows the
    value the page uses."""
    data = request.GET.copy()
    if not data.get(name, "").strip():
        data[name] = value
    return data


def _query(form: Any) -> str:
    return urlencode(
        [(name, form.data[name]) for name in form.fields if str(form.data.get(name, "")).strip()]
    )


# --- analytics (A3) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A row of the analytics table as shown: a few hundred rows render in a few milliseconds
    when the template only prints."""

    url: str
    name: str
    cells: tuple[str, ...]


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def _line(f: analytics.Figures, url: str, name: str) -> Line:
    return Line(
        url=url,
        name=name,
        cells=(
            f"{f.sent:,}",
            _percent(f.delivered_percent),
            _percent(f.failed_percent),
            f"{f.by_email:,}",
            f"{f.replies:,}",
            _percent(f.reply_rate),
            f"{f.opt_outs:,}",
        ),
    )


def _person_url(person_id: int) -> str:
    return reverse("person-detail", args=[person_id])


def _trend_summary(months: list[analytics.TrendMonth]) -> str:
    texts = sum(m.texts for m in months)
    emails = sum(m.by_email for m in months)
    delivered = sum(m.delivered for m in months)
    first, last = months[0].month.label, months[-1].month.label
    if not texts and not emails:
        return f"Staff sent nothing from {first} to {last}."
    busiest = max(months, key=lambda m: (m.total, m.month))
    share = f"{100 * delivered / texts:.1f} %" if texts else "none"
    return (
        f"From {first} to {last} staff sent {texts:,} texts and {emails:,} emails instead; "
        f"{share} of the texts were delivered. The busiest month was {busiest.month.label} "
        f"with {busiest.total:,}. The table below the chart gives each month's figures."
    )


@administrator_required
def analytics_page(request: HttpRequest) -> HttpResponse:
    form = AnalyticsMonthForm(_with_default(request, "month", str(analytics.month_current())))
    if not form.is_valid():
        return _render(request, "analytics", "insight_analytics.html", status=400, form=form)
    month: analytics.Month = form.cleaned_data["month"]
    report = analytics.month_report(month)
    months = analytics.trend(month, known=report)
    figures = chart.stacked_bars(
        [m.month.short_label for m in months],
        [(m.delivered, m.failed, m.awaiting, m.by_email) for m in months],
        SERIES,
    )
    current = analytics.month_current()
    return _render(
        request,
        "analytics",
        "insight_analytics.html",
        form=form,
        month=month,
        report=report,
        lines=[
            _line(row.figures, _person_url(row.staff_id), row.staff_name) for row in report.rows
        ],
        totals=_line(report.totals, "", "All staff"),
        previous=month.shift(-1) if month.shift(-1).reported else None,
        next=month.shift(1) if month.shift(1) <= current else None,
        trend=months,
        chart=figures,
        chart_summary=_trend_summary(months),
        time_zone=analytics.institution_zone().key,
    )


@administrator_required
def analytics_csv(request: HttpRequest) -> HttpResponse:
    """The month's staff rows as CSV (a month without messages: the header line only)."""
    form = AnalyticsMonthForm(request.GET)
    if not form.is_valid():
        return _render(request, "analytics", "insight_analytics.html", status=400, form=form)
    month: analytics.Month = form.cleaned_data["month"]
    lines = analytics.month_csv_lines(analytics.month_report(month))
    response = HttpResponse("".join(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="analytics-{month}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- the opt-out report (A4) ------------------------------------------------------------------


@administrator_required
def opt_outs_page(request: HttpRequest) -> HttpResponse:
    form = OptOutReportForm(request.GET)
    if not form.is_valid():
        return _render(request, "opt-outs", "insight_opt_outs.html", status=400, form=form)
    query = _query(form)
    page = paginate(request, opt_out_report.opt_out_changes(form.report_filter), per_page=50)
    return _render(
        request,
        "opt-outs",
        "insight_opt_outs.html",
        form=form,
        page=page,
        rows=opt_out_report.opt_out_rows(list(page.object_list)),
        query=query,
        extra_query=f"{query}&" if query else "",
        time_zone=analytics.institution_zone().key,
    )


@administrator_required
def opt_outs_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Every change the filters select, streamed row by row however many there are."""
    form = OptOutReportForm(request.GET)
    if not form.is_valid():
        return _render(request, "opt-outs", "insight_opt_outs.html", status=400, form=form)
    changes = opt_out_report.opt_out_changes(form.report_filter)
    response = StreamingHttpResponse(
        opt_out_report.opt_out_csv_lines(changes), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime(timezone.now(), analytics.institution_zone()).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="opt-outs-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- the reclaim report (A5) ------------------------------------------------------------------


@administrator_required
def reclaim_page(request: HttpRequest) -> HttpResponse:
    form = ReclaimForm(_with_default(request, "idle_days", str(reclaim.DEFAULT_IDLE_DAYS)))
    if not form.is_valid():
        return _render(request, "reclaim", "insight_reclaim.html", status=400, form=form)
    idle_days: int = form.cleaned_data["idle_days"]
    query = _query(form)
    page = paginate(request, reclaim.reclaim_candidates(idle_days=idle_days))
    return _render(
        request,
        "reclaim",
        "insight_reclaim.html",
        form=form,
        idle_days=idle_days,
        page=page,
        rows=reclaim.reclaim_rows(list(page.object_list), idle_days=idle_days),
        extra_query=f"{query}&" if query else "",
    )
