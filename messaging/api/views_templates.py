"""REST interface of message templates: administrators keep them; staff who may send texts
read them (to start a text or a cohort's text from one)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.views import APIView

from config.api import is_administrator
from config.serializers import StrictJSON
from messaging import message_templates, selectors
from messaging.models import MessageTemplate


class MessageTemplateSerializer(StrictJSON, serializers.ModelSerializer[MessageTemplate]):
    body = serializers.CharField(
        trim_whitespace=False,
        help_text="The text; {first_name}, {last_name}, {staff_first_name} and "
        "{staff_last_name} are replaced per recipient when it is sent.",
    )

    class Meta:
        model = MessageTemplate
        fields = ["id", "name", "body"]
        # The service answers a taken name in words; DRF's own check would answer first.
        extra_kwargs: dict[str, dict[str, Any]] = {"name": {"validators": []}}

    def create(self, validated_data: dict[str, Any]) -> MessageTemplate:
        return message_templates.template_save(**validated_data)

    def update(self, instance: MessageTemplate, validated_data: dict[str, Any]) -> MessageTemplate:
        return message_templates.template_save(
            name=validated_data.get("name", instance.name),
            body=validated_data.get("body", instance.body),
            template=instance,
        )


class AdminWritesSendersRead(permissions.BasePermission):
    """Administrators keep templates; staff who may send texts read them."""

    message = "Only administrators may change templates; staff who may send texts may read them."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if is_administrator(request.user):
            return True
        if request.method not in permissions.SAFE_METHODS:
            return False
        sender = getattr(request.user, "person", None)
        return sender is not None and not selectors.send_refusal(sender)


class MessageTemplateViewSet(viewsets.ModelViewSet[MessageTemplate]):
    serializer_class = MessageTemplateSerializer
    permission_classes = [AdminWritesSendersRead]
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self) -> QuerySet[MessageTemplate]:
        return message_templates.templates_list()

    def perform_destroy(self, instance: MessageTemplate) -> None:
        message_templates.template_delete(template=instance)
