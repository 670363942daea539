"""REST interfaces of sms_admin: the SMS configuration, phone usage, SMS usage and the
sender-number pool. Each view makes one call into a service or a read."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import IsAdministrator, IsAdminOrIntegration
from config.serializers import ErrorSerializer
from sms_admin import pool, selectors, services
from sms_admin.api.serializers import (
    PhoneUsageSerializer,
    SenderNumberSerializer,
    SmsConfigurationSerializer,
    SmsUsageSerializer,
)
from sms_admin.models import SenderAssignment, SenderNumber, SmsConfiguration


class SmsConfigurationView(generics.RetrieveUpdateAPIView[SmsConfiguration]):
    """GET and PATCH the one configuration row. Limits change only for superusers."""

    serializer_class = SmsConfigurationSerializer
    permission_classes = [IsAdministrator]
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> SmsConfiguration:
        return services.configuration_get()

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.configuration_update(
            actor=self.request.user, **serializer.validated_data
        )


class PhoneUsageView(APIView):
    """The Phone Number Usage grid: limit, used, and who holds which number."""

    permission_classes = [IsAdminOrIntegration]

    @extend_schema(responses=PhoneUsageSerializer)
    def get(self, request: Request) -> Response:
        rows = list(pool.phone_usage_list())
        data = {
            "limit": services.configuration_get().sms_phone_number_limit,
            "used": len(rows),
            "results": rows,
        }
        return Response(PhoneUsageSerializer(data).data)


class PhoneUsageDetailView(APIView):
    permission_classes = [IsAdministrator]

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        """Un-assign: the system phone is soft-deleted and the number is free again."""
        try:
            pool.sender_assignment_release(assignment_id=pk, actor=request.user)
        except SenderAssignment.DoesNotExist:
            raise exceptions.NotFound(f"There is no number assignment with id {pk}.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class SmsUsageView(APIView):
    """This month's SMS count against the limit, in the institution's time zone, with the
    forecast at the current pace."""

    permission_classes = [IsAdminOrIntegration]

    @extend_schema(responses=SmsUsageSerializer)
    def get(self, request: Request) -> Response:
        usage, forecast = pool.monthly_usage_outlook()
        return Response(
            SmsUsageSerializer(
                {
                    "month": usage.month,
                    "limit": usage.limit,
                    "sent": usage.sent,
                    "remaining": usage.remaining,
                    "forecast_month_end": forecast.month_end,
                    "limit_reached_on": forecast.limit_reached_on,
                }
            ).data
        )


def _sender_numbers() -> list[dict[str, Any]]:
    """The pool with each number's active holder, from the selector the Twilio tab uses."""
    rows = []
    for number in selectors.sender_pool():
        # `active_assignments` is the selector's prefetch (to_attr).
        active = number.active_assignments  # type: ignore[attr-defined]
        holder = active[0].person if active else None
        rows.append(
            {
                "id": number.pk,
                "number": number.number,
                "assigned_to": holder.pk if holder else None,
                "assigned_to_name": holder.full_name if holder else None,
            }
        )
    return rows


class SenderNumberListView(APIView):
    """The provisioned pool: GET, POST `{number}`, DELETE `{number}`."""

    permission_classes = [IsAdministrator]

    @extend_schema(responses=SenderNumberSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(SenderNumberSerializer(_sender_numbers(), many=True).data)

    @extend_schema(request=SenderNumberSerializer, responses={201: SenderNumberSerializer})
    def post(self, request: Request) -> Response:
        serializer = SenderNumberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        number = services.sender_number_add(
            number=serializer.validated_data["number"], actor=request.user
        )
        row = {"id": number.pk, "number": number.number, "assigned_to": None}
        return Response(SenderNumberSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SenderNumberSerializer,
        parameters=[
            OpenApiParameter(
                "number",
                str,
                description="The number to remove, when the body does not name it.",
            )
        ],
        responses={
            204: None,
            404: OpenApiResponse(ErrorSerializer, description="The number is not in the pool."),
            415: OpenApiResponse(ErrorSerializer, description="The body is not JSON or a form."),
        },
        operation_id="v1_sender_numbers_destroy_by_number",
    )
    def delete(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        raw = data.get("number") or request.query_params.get("number") or ""
        if not raw:
            raise exceptions.ValidationError({"number": "Name the number to remove."})
        try:
            pool.sender_number_remove(number=str(raw), actor=request.user)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"number": exc.messages[0]}) from None
        except SenderNumber.DoesNotExist as exc:
            raise exceptions.NotFound(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class SenderNumberDetailView(APIView):
    permission_classes = [IsAdministrator]

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        try:
            pool.sender_number_remove(sender_number_id=pk, actor=request.user)
        except SenderNumber.DoesNotExist:
            raise exceptions.NotFound(f"There is no pool number with id {pk}.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)
