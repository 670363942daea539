"""REST interfaces of messaging: each reads through a selector or calls one service."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import IsStaffMember
from messaging import selectors
from messaging.api.serializers import RouteSerializer
from people.models import Person


class PersonSmsRouteView(APIView):
    """GET `people/{id}/sms-route/`: where a text to this person would go now, and why."""

    permission_classes = [IsStaffMember]

    @extend_schema(responses=RouteSerializer)
    def get(self, request: Request, person_id: int) -> Response:
        person = get_object_or_404(Person, pk=person_id)
        route = selectors.route_for_person(person)
        return Response(RouteSerializer(route).data)
