"""Serializers of `analytics/messages/` (A3): a month's figures per staff member."""

from __future__ import annotations

from rest_framework import serializers


class AnalyticsTotalsSerializer(serializers.Serializer[object]):
    sent = serializers.IntegerField(help_text="Outbound texts, whatever became of them.")
    delivered = serializers.IntegerField(help_text="Texts Twilio reported delivered.")
    failed = serializers.IntegerField(help_text="Texts that failed or were undelivered.")
    by_email = serializers.IntegerField(help_text="Emails sent instead of a text.")
    replies = serializers.IntegerField(help_text="Replies received (not STOP/START/HELP).")
    opt_outs = serializers.IntegerField(
        help_text="STOPs texted into the conversations, and texts refused with 21610."
    )


class AnalyticsStaffSerializer(AnalyticsTotalsSerializer):
    staff = serializers.IntegerField(help_text="The staff member's person id.")
    staff_name = serializers.CharField()

    field_order = ("staff", "staff_name")


class AnalyticsMessagesSerializer(serializers.Serializer[object]):
    month = serializers.CharField(help_text="YYYY-MM, a month of the institution's time zone.")
    time_zone = serializers.CharField()
    results = AnalyticsStaffSerializer(many=True)
    totals = AnalyticsTotalsSerializer(
        help_text="Every staff member together; opt-outs also count STOPs that reached no one."
    )
