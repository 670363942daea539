"""REST representation of a route (R6 and the `people/{id}/sms-route/` contract)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from messaging import routing


class ExcludedPhoneSerializer(serializers.Serializer[tuple[routing.PhoneFacts, str]]):
    phone = serializers.IntegerField(help_text="The id of the phone that was passed over.")
    number = serializers.CharField()
    reason = serializers.CharField(help_text="Why it was passed over, in words.")

    def to_representation(self, instance: tuple[routing.PhoneFacts, str]) -> dict[str, Any]:
        phone, reason = instance
        return {"phone": phone.id, "number": phone.number, "reason": reason}


class RouteSerializer(serializers.Serializer[routing.Route]):
    channel = serializers.ChoiceField(choices=["sms", "email", "none"])
    phone = serializers.SerializerMethodField(help_text="The id of the chosen phone, or null.")
    number = serializers.CharField(help_text="The chosen phone's number, or empty.")
    email = serializers.CharField(help_text="The email address when the channel is email.")
    # The rule ids stay the field's values (integrations rely on them); the words explain them.
    rule = serializers.ChoiceField(
        choices=[
            ("R2", "an SMS Enabled phone was chosen"),
            ("R3", "an SMS Default phone of the default SMS phone type was chosen"),
            ("R4", "no candidate phone is verified, so the oldest record was chosen"),
            ("R5", "no phone can receive texts: email, or nothing without an address"),
        ],
        help_text="Which routing rule decided; `explanation` says the same in words.",
    )
    reason = serializers.CharField(
        help_text="NO_SMS_PHONE (email instead) or NO_EMAIL (undeliverable); empty for SMS."
    )
    explanation = serializers.CharField()
    excluded = ExcludedPhoneSerializer(many=True)

    def get_phone(self, route: routing.Route) -> int | None:
        return route.phone.id if route.phone else None
