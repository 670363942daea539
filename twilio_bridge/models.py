"""What the Twilio bridge remembers about Twilio itself: when each webhook last arrived (C9)."""

from __future__ import annotations

from django.db import models


class WebhookKind(models.TextChoices):
    STATUS = "status", "Status callback"
    INBOUND = "inbound", "Inbound message"


class WebhookReceipt(models.Model):
    """One row per webhook kind: when a correctly signed request of that kind last arrived.

    The health line of the Twilio tab (C9) shows "last status callback received" from it.
    """

    kind = models.CharField(max_length=16, choices=WebhookKind.choices, unique=True)
    last_received_at = models.DateTimeField()

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.last_received_at:%Y-%m-%d %H:%M:%S}"
