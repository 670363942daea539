# Five foreign keys of Message lose their own index: an index beginning with the same column
# (sender, recipient, attributed_to) or the unique partial index (replaces, retry_of) serves their
# lookups, and each index is written again whenever a text changes status.
#
# Only the indexes are dropped (DROP INDEX, on PostgreSQL and SQLite alike): an AlterField would
# also drop and re-add each foreign key constraint, which PostgreSQL validates by reading the whole
# table under an exclusive lock. Reversing creates them again.

import django.db.models.deletion
from django.db import migrations, models

# field, its related_name, the model it points at, the index it had
_FIELDS = [
    ("attributed_to", "attributed_messages", "people.person", "messaging_message_attributed_to_id_74debbeb"),
    ("recipient", "received_messages", "people.person", "messaging_message_recipient_id_6eb91564"),
    ("replaces", "fallbacks", "messaging.message", "messaging_message_replaces_id_1aa789d4"),
    ("retry_of", "retries", "messaging.message", "messaging_message_retry_of_id_d2980420"),
    ("sender", "sent_messages", "people.person", "messaging_message_sender_id_7a7088e6"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0013_pacing'),
        ('people', '0003_phone_status_change_reason'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name=name,
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name=related_name,
                        to=to,
                    ),
                )
                for name, related_name, to, _ in _FIELDS
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {index}",
                    reverse_sql=f"CREATE INDEX {index} ON messaging_message ({name}_id)",
                )
                for name, _, _, index in _FIELDS
            ],
        ),
    ]
