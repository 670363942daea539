"""The configuration's texts of several lines are stored with LF line breaks: a template saved
from a browser's textarea before (CRLF) is normalised once, so its next save of the same text
records no change."""

from django.db import migrations


def normalize(apps, schema_editor):
    SmsConfiguration = apps.get_model("sms_admin", "SmsConfiguration")
    for config in SmsConfiguration.objects.all():
        changed = []
        for name in ("reply_notification_body", "help_text"):
            value = getattr(config, name)
            fixed = value.replace("\r\n", "\n").replace("\r", "\n")
            if fixed != value:
                setattr(config, name, fixed)
                changed.append(name)
        if changed:
            config.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [("sms_admin", "0006_usage_alert")]

    operations = [migrations.RunPython(normalize, migrations.RunPython.noop)]
