"""Seed the error-code policy table with T3's defaults; administrators edit it later."""

from django.db import migrations

DEFAULTS = [
    (21610, "Recipient unsubscribed (STOP)", "disable_all_phones", "TWILIO_RECIPIENT_UNSUBSCRIBED"),
    (21211, "Invalid 'To' number", "disable_phone", "TWILIO_INVALID_NUMBER"),
    (21614, "'To' number is not a mobile number", "disable_phone", "TWILIO_NOT_MOBILE"),
    (21635, "'To' number is a landline", "disable_phone", "TWILIO_NOT_MOBILE"),
    (30005, "Unknown destination handset", "disable_phone", "TWILIO_UNKNOWN_HANDSET"),
    (30006, "Landline or unreachable carrier", "disable_phone", "TWILIO_LANDLINE"),
    (30004, "Message blocked", "disable_phone", "TWILIO_BLOCKED"),
    (30003, "Unreachable destination handset", "retry_then_email", "TWILIO_UNREACHABLE"),
    (30008, "Unknown error", "retry_then_email", "TWILIO_UNREACHABLE"),
    (21408, "Permission to send to this region is not enabled", "sender_side", "TWILIO_REGION_NOT_PERMITTED"),
    (30007, "Message filtered by the carrier", "sender_side", "TWILIO_FILTERED"),
    (30034, "Message from an unregistered number", "sender_side", "TWILIO_SENDER_UNREGISTERED"),
    (20429, "Too many requests (throttled)", "retry", "RETRIES_EXHAUSTED"),
]


def seed(apps, schema_editor):
    ErrorCodePolicy = apps.get_model("sms_admin", "ErrorCodePolicy")
    for code, meaning, action, reason in DEFAULTS:
        ErrorCodePolicy.objects.get_or_create(
            code=code, defaults={"meaning": meaning, "action": action, "failure_reason": reason}
        )


def unseed(apps, schema_editor):
    apps.get_model("sms_admin", "ErrorCodePolicy").objects.filter(
        code__in=[row[0] for row in DEFAULTS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("sms_admin", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
