"""GET `analytics/messages/?month=YYYY-MM` (A3): a month's figures per staff member, read
through messaging.analytics like the analytics page and its CSV."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import IsAdministrator
from messaging import analytics
from messaging.api.serializers_analytics import AnalyticsMessagesSerializer

FIGURES = ("sent", "delivered", "failed", "by_email", "replies", "opt_outs")


def _counts(figures: analytics.Figures) -> dict[str, int]:
    return {name: getattr(figures, name) for name in FIGURES}


class AnalyticsMessagesView(APIView):
    permission_classes = [IsAdministrator]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "month",
                str,
                required=False,
                pattern=r"^\d{4}-\d{2}$",
                description="YYYY-MM in the institution's time zone; this month when omitted. "
                "A month in the future is refused (400).",
            )
        ],
        responses=AnalyticsMessagesSerializer,
    )
    def get(self, request: Request) -> Response:
        try:
            month = analytics.month_parse(request.query_params.get("month"))
        except analytics.MonthError as exc:
            raise exceptions.ValidationError({"month": [str(exc)]}) from None
        report = analytics.month_report(month)
        data: dict[str, Any] = {
            "month": str(month),
            "time_zone": analytics.institution_zone().key,
            "results": [
                {"staff": row.staff_id, "staff_name": row.staff_name, **_counts(row.figures)}
                for row in report.rows
            ],
            "totals": _counts(report.totals),
        }
        return Response(AnalyticsMessagesSerializer(data).data)
