# Five foreign keys of Message lose their own index: an index beginning with the same column
# (sender, recipient, attributed_to) or the unique partial index (replaces, retry_of) serves their
# lookups, and each index is written again whenever a text changes status.
#
# Only the indexes are dropped (DROP INDEX, on PostgreSQL and SQLite alike): an AlterField would
# also drop and re-add each foreign key constraint, which PostgreSQL validates by reading the whole
# table under an exclusive lock. Reversing creates them again.

import django.db.models.deletion
from django.db import migrations, models


_INDEXES = [
    ("messaging_message_attributed_to_id_74debbeb", "attributed_to_id"),
    ("messaging_message_recipient_id_6eb91564", "recipient_id"),
    ("messaging_message_replaces_id_1aa789d4", "replaces_id"),
    ("messaging_message_retry_of_id_d2980420", "retry_of_id"),
    ("messaging_message_sender_id_7a7088e6", "sender_id"),
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
                    model_name='message',
                    name='attributed_to',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='attributed_messages', to='people.person'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='recipient',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='received_messages', to='people.person'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='replaces',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='fallbacks', to='messaging.message'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='retry_of',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='retries', to='messaging.message'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='sender',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='sent_messages', to='people.person'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}",
                    reverse_sql=f"CREATE INDEX {name} ON messaging_message ({column})",
                )
                for name, column in _INDEXES
            ],
        ),
    ]
