"""REST representation of an inbox row (the `conversations/` contract, V3, V5)."""

from __future__ import annotations

from rest_framework import serializers

from messaging.inbox import Conversation


class ConversationSerializer(serializers.Serializer[Conversation]):
    person = serializers.IntegerField(source="person_id", help_text="The other person's id.")
    person_name = serializers.CharField()
    last_message_at = serializers.DateTimeField()
    last_message_excerpt = serializers.CharField(
        help_text="The last message on one line, at most 120 characters."
    )
    unread = serializers.IntegerField(help_text="Inbound texts not yet opened by the owner.")
    needs_reply = serializers.BooleanField(
        help_text="The last message is an inbound text that is not a keyword (STOP, HELP, ...)."
    )
    opted_out = serializers.BooleanField(
        help_text="The person has a phone SMS Disabled by their own opt-out (STOP)."
    )
    waiting_since = serializers.DateTimeField(
        allow_null=True,
        help_text="When needs_reply: the oldest inbound text after the owner's last answer.",
    )
