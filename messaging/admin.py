"""Admin view of the message log and the outbox of emails to staff, and the SMS route on the
Person admin page (R6)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from messaging import selectors
from messaging.models import Message, OutboxEmail, SendRequest
from people import admin as people_admin
from people.models import Person


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


@admin.register(SendRequest)
class SendRequestAdmin(admin.ModelAdmin[SendRequest]):
    """API sends made with an Idempotency-Key and the answer a repeat gets back. The API writes a
    key with its answer in one transaction, so every row here has one."""

    list_display = ["created_at", "sender", "key", "status_code"]
    list_filter = ["status_code"]
    search_fields = ["key"]
    list_select_related = ["sender"]
    readonly_fields = ["sender", "key", "fingerprint", "status_code", "response", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SendRequest | None = None) -> bool:
        return False


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin[OutboxEmail]):
    """Reply notifications and administrators' alerts, and whether each went out; read-only
    (workers and the sweep move them on)."""

    list_display = ["created_at", "kind", "key", "status", "attempts", "sent_at"]
    list_filter = ["kind", "status"]
    search_fields = ["key"]
    readonly_fields = [
        "kind",
        "key",
        "payload",
        "status",
        "attempts",
        "created_at",
        "updated_at",
        "sent_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxEmail | None = None) -> bool:
        return False


# The Person admin gains a read-only "SMS route" block (R6). It lives here, not in people/admin.py,
# because people must not depend on messaging (people <- sms_admin <- messaging).
admin.site.unregister(Person)


@admin.register(Person)
class PersonWithRouteAdmin(people_admin.PersonAdmin):
    def get_fieldsets(self, request: HttpRequest, obj: Person | None = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        # super() put every field, sms_route included, into one unnamed fieldset.
        main = [f for f in fieldsets[0][1]["fields"] if f != "sms_route"]
        return [
            (None, {"fields": main}),
            ("Where a text goes now (SMS routing)", {"fields": ["sms_route"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Person | None = None) -> Any:
        return ["sms_route"] if obj is not None else []

    @admin.display(description="SMS route")
    def sms_route(self, obj: Person) -> str:
        route = selectors.route_for_person(obj)
        rows = format_html_join(
            "",
            "<li>{}: {}</li>",
            ((phone.number, reason) for phone, reason in route.excluded),
        )
        destination = route.number or route.email or "nobody (undeliverable)"
        return format_html(
            '<div class="sms-route"><p><strong>{}</strong> to <strong>{}</strong> (rule {})</p>'
            "<p>{}</p>{}</div>",
            route.channel.upper(),
            destination,
            route.rule,
            route.explanation,
            format_html("<p>Passed over:</p><ul>{}</ul>", rows) if route.excluded else "",
        )
