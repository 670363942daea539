"""The System phone type that staff members' Twilio numbers carry (P4)."""

from django.db import migrations


def seed(apps, schema_editor):
    PhoneType = apps.get_model("people", "PhoneType")
    PhoneType.objects.get_or_create(code="SYSTEM", defaults={"name": "System"})


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
