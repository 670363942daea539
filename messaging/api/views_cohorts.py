"""REST interface of cohort sends: `cohorts/{id}/`, a cohort's progress (K2), for its sender and
administrators."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging import cohorts
from messaging.api.serializers_send import CohortSerializer


class CohortDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: CohortSerializer})
    def get(self, request: Request, pk: int) -> Response:
        try:
            cohort = cohorts.cohort_for_viewer(pk, request.user)
        except Http404 as exc:
            raise exceptions.NotFound(str(exc)) from None
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        progress = cohorts.cohort_progress(cohort.pk)
        data = {
            "id": cohort.pk,
            "sender": cohort.sender_id,
            "created_at": cohort.created_at,
            "body": cohort.body,
            "count": cohort.count,
            "send_at": None,
            "statuses": progress.statuses,
            "channels": progress.channels,
        }
        return Response(CohortSerializer(data).data)
