"""REST interfaces for roles, phone types, people and phones: each calls one service."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import AdminWritesStaffReads, IsAdminOrIntegration, IsStaffMember
from config.serializers import ErrorSerializer
from people import selectors, services, sis
from people.api.serializers import (
    PersonSerializer,
    PhoneSerializer,
    PhoneTypeSerializer,
    PhoneUpdateSerializer,
    RoleSerializer,
    SisImportErrorsSerializer,
    SisImportResultSerializer,
    SisImportSerializer,
)
from people.models import Person, PersonPhone, PhoneType, Role
from sms_admin import selectors as sms_admin_selectors


class RoleViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[Role]):
    queryset = Role.objects.all()
    serializer_class = RoleSerializer
    permission_classes = [AdminWritesStaffReads]
    pagination_class = None


class PhoneTypeViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[PhoneType]
):
    queryset = PhoneType.objects.all()
    serializer_class = PhoneTypeSerializer
    permission_classes = [AdminWritesStaffReads]
    pagination_class = None


class PersonViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Person],
):
    serializer_class = PersonSerializer
    permission_classes = [IsAdminOrIntegration]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        return selectors.person_list().order_by("id")

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.person_create(
            actor=self.request.user,
            permitted_role_ids=sms_admin_selectors.permitted_role_ids(),
            **serializer.validated_data,
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.person_update(
            serializer.instance,
            actor=self.request.user,
            permitted_role_ids=sms_admin_selectors.permitted_role_ids(),
            **serializer.validated_data,
        )


class PersonPhoneListView(generics.ListCreateAPIView[PersonPhone]):
    """GET and POST `people/{id}/phones/`."""

    serializer_class = PhoneSerializer
    permission_classes = [IsStaffMember]
    pagination_class = None

    def get_person(self) -> Person:
        return get_object_or_404(Person, pk=self.kwargs["person_id"])

    def get_queryset(self) -> Any:
        return selectors.person_phones(self.get_person())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = self.get_person()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        verified = data.pop("verified", False)
        phone = services.phone_create(
            person=person,
            verified_by=request.user if verified else None,
            actor=request.user,
            **data,
        )
        return Response(self.get_serializer(phone).data, status=status.HTTP_201_CREATED)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class PhoneDetailView(generics.RetrieveUpdateDestroyAPIView[PersonPhone]):
    """GET, PATCH (sms_status, verified) and DELETE (soft) on `phones/{id}/`."""

    queryset = PersonPhone.objects.select_related("phone_type", "verified_by")
    serializer_class = PhoneUpdateSerializer
    permission_classes = [IsStaffMember]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    @extend_schema(
        responses={
            200: PhoneUpdateSerializer,
            409: OpenApiResponse(ErrorSerializer, description="The phone was deleted."),
        }
    )
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().patch(request, *args, **kwargs)

    def perform_update(self, serializer: Any) -> None:
        try:
            serializer.instance = services.phone_update(
                phone=serializer.instance, actor=self.request.user, **serializer.validated_data
            )
        except services.PhoneDeletedError as exc:
            raise Conflict(exc.messages[0]) from None

    def perform_destroy(self, instance: PersonPhone) -> None:
        services.phone_delete(phone=instance)


class PersonImportView(APIView):
    """POST `people/import/`: the SIS person import, all or nothing."""

    permission_classes = [IsAdminOrIntegration]

    @extend_schema(
        request=SisImportSerializer,
        responses={
            200: SisImportResultSerializer,
            400: OpenApiResponse(
                SisImportErrorsSerializer,
                description="Nothing was imported: the feed's rows with their errors, or (a "
                "malformed request) a message per field.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = SisImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = sis.sis_people_import(
                rows=serializer.sis_rows(),
                actor=request.user,
                permitted_role_ids=sms_admin_selectors.permitted_role_ids(),
            )
        except sis.SisImportError as exc:
            errors = [{"row": e.row, "messages": list(e.messages)} for e in exc.row_errors]
            return Response(
                {"detail": exc.messages[0], "errors": errors}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(result.as_dict())
