"""REST interface of the SMS configuration."""

from __future__ import annotations

from typing import Any

from rest_framework import generics

from config.api import IsAdministrator
from sms_admin import services
from sms_admin.api.serializers import SmsConfigurationSerializer
from sms_admin.models import SmsConfiguration


class SmsConfigurationView(generics.RetrieveUpdateAPIView[SmsConfiguration]):
    """GET and PATCH the one configuration row. Limits change only for superusers (C7)."""

    serializer_class = SmsConfigurationSerializer
    permission_classes = [IsAdministrator]
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> SmsConfiguration:
        return services.configuration_get()

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.configuration_update(
            actor=self.request.user, **serializer.validated_data
        )
