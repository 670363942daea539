"""REST interface of cohort sends: `cohorts/{id}/`, a cohort's progress (K2), for its sender and
administrators."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import IsStaffMember
from config.serializers import ErrorSerializer
from messaging import cohorts, services
from messaging.api.serializers_send import CohortCancelSerializer, CohortSerializer
from messaging.models import Cohort


def _cohort(request: Request, pk: int) -> Cohort:
    try:
        return cohorts.cohort_for_viewer(pk, request.user)
    except Http404 as exc:
        raise exceptions.NotFound(str(exc)) from None
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc)) from None


class CohortDetailView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(responses={200: CohortSerializer})
    def get(self, request: Request, pk: int) -> Response:
        cohort = _cohort(request, pk)
        progress = cohorts.cohort_progress(cohort.pk)
        data = {
            "id": cohort.pk,
            "sender": cohort.sender_id,
            "created_at": cohort.created_at,
            "body": cohort.body,
            "count": cohort.count,
            "send_at": progress.send_at,
            "statuses": progress.statuses,
            "channels": progress.channels,
        }
        return Response(CohortSerializer(data).data)


class CohortCancelView(APIView):
    """POST `cohorts/{id}/cancel/`: its texts still scheduled, or waiting for their number's
    pace, will not go (its sender or an administrator); 409 when none is left to cancel."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        request=None,
        responses={
            200: CohortCancelSerializer,
            409: OpenApiResponse(
                ErrorSerializer, description="None of its texts is scheduled or waiting."
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        cohort = _cohort(request, pk)
        try:
            canceled = services.cohort_cancel(cohort_id=cohort.pk)
        except services.NothingScheduled as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(CohortCancelSerializer({"id": cohort.pk, "canceled": canceled}).data)
