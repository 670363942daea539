"""REST interfaces of the inbox (V1, V3): the caller's conversations, one conversation's
messages, marking one read. Staff see their own conversations; administrators may name another
staff member's (`staff=ID`) or the shared inbox (`unassigned=true`)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import IsStaffMember, is_administrator
from config.serializers import ErrorSerializer
from messaging import inbox, inbox_services
from messaging.api.serializers_conversations import ConversationSerializer
from messaging.api.serializers_send import MessageSerializer
from messaging.conversation import SHARED, Owner, messages_between
from messaging.models import Message
from people.models import Person

OWNER_PARAMETERS = [
    OpenApiParameter(
        "staff",
        int,
        description="Administrators: that staff member's conversations (read-only) instead of "
        "their own.",
    ),
    OpenApiParameter(
        "unassigned",
        bool,
        description="Administrators: the shared inbox (texts nobody could be given).",
    ),
]
FILTER_PARAMETERS = [
    OpenApiParameter("unread", bool, description="Only conversations with unread texts."),
    OpenApiParameter("needs_reply", bool, description="Only conversations waiting for a reply."),
]
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name)
    if value is None or value.lower() in _FALSE:
        return False
    if value.lower() in _TRUE:
        return True
    raise exceptions.ValidationError({name: [f'"{value}" is not true or false.']})


def _owner(request: Request) -> Owner:
    """Whose conversations the request is about: the caller's, or (administrators) another
    staff member's or the shared inbox's."""
    staff = request.query_params.get("staff")
    unassigned = _flag(request, "unassigned")
    if staff is not None or unassigned:
        if not is_administrator(request.user):
            raise exceptions.PermissionDenied(
                "Only administrators may read another staff member's conversations or the "
                "shared inbox; leave out staff and unassigned for your own."
            )
        if staff is not None and unassigned:
            raise exceptions.ValidationError({"detail": "Give staff or unassigned=true, not both."})
        if unassigned:
            return SHARED
        try:
            staff_id = int(staff or "")
        except ValueError:
            raise exceptions.ValidationError({"staff": ["A staff member's person id."]}) from None
        if not Person.objects.filter(pk=staff_id).exists():
            raise exceptions.NotFound(f"No person with id {staff_id}.")
        return Owner(staff_id)
    person = getattr(request.user, "person", None)
    if person is None:
        raise exceptions.PermissionDenied(
            "Your login is not linked to a person, so you have no conversations of your own. "
            "Administrators may add unassigned=true or staff=ID."
        )
    return Owner(person.pk)


def _person(person_id: int) -> Person:
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise exceptions.NotFound(f"No person with id {person_id}.")
    return person


class ConversationListView(generics.ListAPIView[Any]):
    """GET `conversations/`: the caller's conversations, latest activity first."""

    permission_classes = [IsStaffMember]
    serializer_class = ConversationSerializer

    @extend_schema(
        parameters=FILTER_PARAMETERS + OWNER_PARAMETERS,
        responses={
            200: ConversationSerializer(many=True),
            404: OpenApiResponse(ErrorSerializer, description="`staff` names no person."),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        owner = _owner(request)
        filters = [
            f
            for f, name in (
                (inbox.Filter.UNREAD, "unread"),
                (inbox.Filter.NEEDS_REPLY, "needs_reply"),
            )
            if _flag(request, name)
        ]
        groups = self.paginate_queryset(inbox.conversation_groups(owner, *filters))
        rows = inbox.conversation_rows(groups or [])
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)


class ConversationMessagesView(generics.ListAPIView[Message]):
    """GET `conversations/{person id}/messages/`: the caller's conversation with that person,
    oldest first: empty when the caller and that person have none, even when another
    staff member has one."""

    permission_classes = [IsStaffMember]
    serializer_class = MessageSerializer

    def get_queryset(self) -> QuerySet[Message]:
        owner = _owner(self.request)
        person = _person(self.kwargs["person_id"])
        return Message.objects.filter(messages_between(owner, person)).order_by("created_at", "id")

    @extend_schema(parameters=OWNER_PARAMETERS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ConversationReadView(APIView):
    """POST `conversations/{person id}/read/`: mark the caller's conversation with that person
    read (204), also when nothing was unread. Administrators may mark a shared-inbox
    conversation read (`unassigned=true`), never another staff member's."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        request=None,
        parameters=[OWNER_PARAMETERS[1]],
        responses={204: OpenApiResponse(description="Marked read (or nothing was unread).")},
    )
    def post(self, request: Request, person_id: int) -> Response:
        if request.query_params.get("staff") is not None:
            raise exceptions.ValidationError(
                {"staff": ["Another staff member's conversation is read-only."]}
            )
        owner = _owner(request)
        person = _person(person_id)
        inbox_services.conversation_mark_read(owner=owner, person_id=person.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
