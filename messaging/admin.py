"""Admin view of the message log."""

from __future__ import annotations

from django.contrib import admin

from messaging.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    list_display = [
        "created_at",
        "direction",
        "sender",
        "recipient",
        "channel",
        "destination",
        "status",
        "failure_reason",
        "error_code",
    ]
    list_filter = ["direction", "channel", "status", "failure_reason"]
    search_fields = ["destination", "from_number", "twilio_sid", "body"]
    list_select_related = ["sender", "recipient"]
    raw_id_fields = ["sender", "recipient", "phone", "replaces"]
    readonly_fields = ["token", "created_at", "updated_at"]
