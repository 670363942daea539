"""REST interfaces of sending: messages (send + the Message Report), phone usage, SMS usage and
the sender-number pool. Each view makes one call into a service or a read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import IsAdministrator, IsAdminOrIntegration
from messaging import idempotency, report, selectors, services
from messaging.api.serializers_send import (
    MessageBulkCreateSerializer,
    MessageBulkResultSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    PhoneUsageSerializer,
    SenderNumberSerializer,
    SmsUsageSerializer,
)
from messaging.models import Channel, Direction, FailureReason, Message, Status
from people.models import Person
from sms_admin import pool
from sms_admin import selectors as sms_admin_selectors
from sms_admin import services as sms_admin_services
from sms_admin.models import SenderAssignment, SenderNumber

IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Optional. Repeating the request with the same key returns the first answer "
    "(header Idempotent-Replayed: true) instead of sending again; a repeat racing the first "
    "waits for it. A refused or failed request leaves the key unused. 422 if the key came "
    "with another request.",
)

REPORT_FILTERS = [
    OpenApiParameter("direction", str, enum=Direction.values),
    OpenApiParameter("sender", int),
    OpenApiParameter("recipient", int),
    OpenApiParameter("channel", str, enum=Channel.values),
    OpenApiParameter("status", str, enum=Status.values),
    OpenApiParameter("failure_reason", str, enum=FailureReason.values),
    OpenApiParameter("created_after", str, description="date or date-time, inclusive"),
    OpenApiParameter("created_before", str, description="date or date-time, inclusive"),
]


class MessageListCreateView(generics.ListCreateAPIView[Message]):
    """POST sends a text (permitted staff); GET is the Message Report (administrators)."""

    serializer_class = MessageSerializer

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            # S1 is checked by the service, first; see post() for invalid input.
            return [permissions.IsAuthenticated()]
        return [IsAdministrator()]

    def get_serializer_class(self) -> Any:
        return MessageCreateSerializer if self.request.method == "POST" else MessageSerializer

    def get_queryset(self) -> QuerySet[Message]:
        try:
            report_filter = report.report_filter_parse(self.request.query_params)
        except report.ReportFilterError as exc:
            raise exceptions.ValidationError(exc.errors) from None
        return report.message_report(report_filter)

    @extend_schema(parameters=REPORT_FILTERS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=MessageCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: MessageSerializer},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sender = getattr(request.user, "person", None)
        data = _send_request_data(self, request, MessageCreateSerializer, sender)

        def send() -> Response:
            message = services.message_send(
                sender=sender, recipient_id=data["recipient"], body=data["body"]
            )
            return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

        return _serve_once(request, sender, data, send)


class MessageBulkCreateView(APIView):
    """POST `messages/bulk/`: one message per recipient of a cohort (permitted staff), each routed
    like a single send; all or nothing when the request is invalid."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=MessageBulkCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: MessageBulkResultSerializer},
    )
    def post(self, request: Request) -> Response:
        sender = getattr(request.user, "person", None)
        data = _send_request_data(self, request, MessageBulkCreateSerializer, sender)

        def send() -> Response:
            result = services.message_send_bulk(
                sender=sender, recipient_ids=data["recipients"], body=data["body"]
            )
            channels: Counter[str] = Counter()
            reasons: Counter[str] = Counter()
            for (channel, reason), count in result.counts.items():
                channels[channel] += count
                if reason:
                    reasons[reason] += count
            summary = {
                "count": len(result.message_ids),
                "channels": channels,
                "failure_reasons": reasons,
                "message_ids": result.message_ids,
                "unknown_recipients": result.unknown_recipients,
            }
            return Response(
                MessageBulkResultSerializer(summary).data, status=status.HTTP_201_CREATED
            )

        return _serve_once(request, sender, data, send)


def _send_request_data(
    view: APIView, request: Request, serializer_class: Any, sender: Person | None
) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    if not serializer.is_valid():
        # Somebody who may not send at all hears that first, whatever they typed (S1).
        refusal = selectors.send_refusal(sender)
        if refusal:
            view.permission_denied(request, message=refusal)
        raise exceptions.ValidationError(serializer.errors)
    return dict(serializer.validated_data)


def _serve_once(
    request: Request, sender: Person | None, data: dict[str, Any], send: Callable[[], Response]
) -> Response:
    """Serve a send; with an Idempotency-Key, at most once per key (messaging.idempotency).

    The key is written in the same transaction as what the send records (a single text, or a
    whole cohort: message_send_bulk is all or nothing), so a refused or failed request leaves no
    key behind, and a repeat racing the first waits for it and then replays its answer.
    """
    raw_key = request.headers.get(idempotency.HEADER)
    if raw_key is None or sender is None:
        return send()
    try:
        key = idempotency.key_check(raw_key)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(exc.message_dict) from None
    fingerprint = idempotency.fingerprint(request.path, data)
    with transaction.atomic():
        try:
            started, replay = idempotency.send_request_begin(
                sender=sender, key=key, fingerprint=fingerprint
            )
        except idempotency.IdempotencyConflict as exc:
            return Response({"detail": exc.message}, status=exc.status_code)
        if replay is not None:
            return Response(
                replay.response, status=replay.status_code, headers={"Idempotent-Replayed": "true"}
            )
        assert started is not None
        response = send()
        idempotency.send_request_finish(
            request=started, status_code=response.status_code, response=response.data
        )
        return response


class MessageDetailView(generics.RetrieveAPIView[Message]):
    serializer_class = MessageSerializer
    permission_classes = [IsAdministrator]
    queryset = Message.objects.all()


class PhoneUsageView(APIView):
    """The Phone Number Usage grid (C7): limit, used, and who holds which number."""

    permission_classes = [IsAdminOrIntegration]

    @extend_schema(responses=PhoneUsageSerializer)
    def get(self, request: Request) -> Response:
        rows = list(pool.phone_usage_list())
        data = {
            "limit": sms_admin_services.configuration_get().sms_phone_number_limit,
            "used": len(rows),
            "results": rows,
        }
        return Response(PhoneUsageSerializer(data).data)


class PhoneUsageDetailView(APIView):
    permission_classes = [IsAdministrator]

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        """Un-assign (S8): the system phone is soft-deleted and the number is free again."""
        try:
            pool.sender_assignment_release(assignment_id=pk, actor=request.user)
        except SenderAssignment.DoesNotExist:
            raise exceptions.NotFound(f"There is no number assignment with id {pk}.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class SmsUsageView(APIView):
    """This month's SMS count against the limit (C6), in the institution's time zone."""

    permission_classes = [IsAdminOrIntegration]

    @extend_schema(responses=SmsUsageSerializer)
    def get(self, request: Request) -> Response:
        usage = pool.monthly_usage_summary()
        return Response(
            SmsUsageSerializer(
                {
                    "month": usage.month,
                    "limit": usage.limit,
                    "sent": usage.sent,
                    "remaining": usage.remaining,
                }
            ).data
        )


def _sender_numbers() -> list[dict[str, Any]]:
    """The pool with each number's active holder, from the selector the Twilio tab uses."""
    rows = []
    for number in sms_admin_selectors.sender_pool():
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
    """The provisioned pool (C9): GET, POST `{number}`, DELETE `{number}`."""

    permission_classes = [IsAdministrator]

    @extend_schema(responses=SenderNumberSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(SenderNumberSerializer(_sender_numbers(), many=True).data)

    @extend_schema(request=SenderNumberSerializer, responses={201: SenderNumberSerializer})
    def post(self, request: Request) -> Response:
        serializer = SenderNumberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        number = sms_admin_services.sender_number_add(
            number=serializer.validated_data["number"], actor=request.user
        )
        row = {"id": number.pk, "number": number.number, "assigned_to": None}
        return Response(SenderNumberSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SenderNumberSerializer,
        responses={204: None},
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
