"""REST interfaces of sending: messages (send + the Message Report). Each view makes one call
into a service or a read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import IsAdministrator, IsStaffMember, is_administrator
from config.serializers import ErrorSerializer
from messaging import idempotency, quiet_hours, report, selectors, services
from messaging.api.serializers_send import (
    MessageBulkCreateSerializer,
    MessageBulkPreviewSerializer,
    MessageBulkResultSerializer,
    MessageCreateSerializer,
    MessageSerializer,
)
from messaging.models import Channel, Direction, FailureReason, Message, Status
from people.models import Person

IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    # What idempotency.key_check takes: 1 to 255 visible ASCII characters.
    {"type": "string", "pattern": f"^[!-~]{{1,{idempotency.KEY_MAX_LENGTH}}}$"},
    OpenApiParameter.HEADER,
    required=False,
    description="Optional. Repeating the request with the same key returns the first answer "
    "(header Idempotent-Replayed: true) instead of sending again; a repeat racing the first "
    "waits for it. A refused or failed request leaves the key unused. 422 if the key came "
    "with another request.",
)

PERSON_ID = {"type": "integer", "minimum": 1, "maximum": report.MAX_ID}
IDEMPOTENCY_ERRORS = {
    409: OpenApiResponse(
        ErrorSerializer, description="The Idempotency-Key's first request is still running."
    ),
    422: OpenApiResponse(
        ErrorSerializer, description="The Idempotency-Key came before with another request."
    ),
}

REPORT_FILTERS = [
    OpenApiParameter("direction", str, enum=Direction.values),
    OpenApiParameter("sender", PERSON_ID, description="A person id."),
    OpenApiParameter("recipient", PERSON_ID, description="A person id."),
    OpenApiParameter("channel", str, enum=Channel.values),
    OpenApiParameter("status", str, enum=Status.values),
    OpenApiParameter("failure_reason", str, enum=FailureReason.values),
    OpenApiParameter("created_after", str, description="date or date-time, inclusive"),
    OpenApiParameter("created_before", str, description="date or date-time, inclusive"),
    OpenApiParameter("cohort", int, description="the messages of one cohort send"),
]


# One serializer serves every send's answer: building its fields costs more than the rest of
# the representation (0.6 ms against 0.03 ms), and to_representation keeps no state.
_SENT = MessageSerializer()


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
        responses={201: MessageSerializer, **IDEMPOTENCY_ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sender = getattr(request.user, "person", None)
        data = _send_request_data(self, request, MessageCreateSerializer, sender)

        def send() -> Response:
            message = services.message_send(
                sender=sender,
                recipient_id=data["recipient"],
                body=data["body"],
                send_at=data.get("send_at"),
            )
            return Response(_SENT.to_representation(message), status=status.HTTP_201_CREATED)

        return _serve_once(request, sender, data, send)


class MessageBulkCreateView(APIView):
    """POST `messages/bulk/`: one message per recipient of a cohort (permitted staff), each routed
    like a single send; all or nothing when the request is invalid."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=MessageBulkCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: MessageBulkResultSerializer, **IDEMPOTENCY_ERRORS},
    )
    def post(self, request: Request) -> Response:
        sender = getattr(request.user, "person", None)
        data = _send_request_data(self, request, MessageBulkCreateSerializer, sender)

        def send() -> Response:
            result = services.message_send_bulk(
                sender=sender,
                recipient_ids=data["recipients"],
                body=data["body"],
                send_at=data.get("send_at"),
            )
            channels: Counter[str] = Counter()
            reasons: Counter[str] = Counter()
            for (channel, reason), count in result.counts.items():
                channels[channel] += count
                if reason:
                    reasons[reason] += count
            summary = {
                "id": result.cohort_id,
                "count": len(result.message_ids),
                "channels": channels,
                "failure_reasons": reasons,
                "message_ids": result.message_ids,
                "unknown_recipients": result.unknown_recipients,
                "scheduled": result.scheduled,
                "send_at": result.send_at,
                "when": quiet_hours.scheduled_words(
                    result.send_at, timezone.now(), timezone.get_current_timezone()
                )
                if result.send_at is not None
                else "",
            }
            return Response(
                MessageBulkResultSerializer(summary).data, status=status.HTTP_201_CREATED
            )

        return _serve_once(request, sender, data, send)


class MessageBulkPreviewView(APIView):
    """POST `messages/bulk/preview/`: what `messages/bulk/` would do with the same body now
    (channels, reasons, segments, the month's remaining count, the cost), recording nothing."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=MessageBulkCreateSerializer, responses={200: MessageBulkPreviewSerializer}
    )
    def post(self, request: Request) -> Response:
        sender = getattr(request.user, "person", None)
        data = _send_request_data(self, request, MessageBulkCreateSerializer, sender)
        preview = services.message_send_preview(
            sender=sender,
            recipient_ids=data["recipients"],
            body=data["body"],
            send_at=data.get("send_at"),
        )
        summary = {
            "count": preview.count,
            "channels": preview.channels,
            "reasons": preview.reasons,
            "segments": preview.segments,
            "total_segments": preview.total_segments,
            "monthly_remaining_after": preview.monthly_remaining_after,
            "estimated_cost": preview.estimated_cost,
            "last_leaves_at": preview.last_leaves_at,
            "send_at": preview.send_at,
            "when": quiet_hours.scheduled_words(
                preview.send_at, timezone.now(), timezone.get_current_timezone()
            )
            if preview.send_at is not None
            else "",
        }
        return Response(MessageBulkPreviewSerializer(summary).data)


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


class MessageCancelView(APIView):
    """POST `messages/{id}/cancel/`: a scheduled text, or one waiting for its number's pace,
    will not go (its sender or an administrator); 409 once it has left or was cancelled."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        request=None,
        responses={
            200: MessageSerializer,
            409: OpenApiResponse(
                ErrorSerializer, description="The text is no longer scheduled or waiting."
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        try:
            message = services.message_cancel(
                message_id=pk,
                actor=getattr(request.user, "person", None),
                is_administrator=is_administrator(request.user),
            )
        except Message.DoesNotExist:
            raise exceptions.NotFound(f"There is no outbound message with id {pk}.") from None
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        except services.NotCancelable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(_SENT.to_representation(message))


class MessageDetailView(generics.RetrieveAPIView[Message]):
    serializer_class = MessageSerializer
    permission_classes = [IsAdministrator]
    queryset = Message.objects.all()
