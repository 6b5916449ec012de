# The partner rows move to the partners app (partners 0001): they leave this app's state
# only. Their tables, with every row, index and constraint, stay as they are; the partners
# app's models name them by ``db_table``.

from django.db import migrations

# Referencing models first, so that no state model points at a deleted one.
MOVED = [
    "PartnerTermsAcceptance",
    "PartnerActivation",
    "PartnerInvitation",
    "Engagement",
    "SupportRequest",
    "PartnerTermsVersion",
]


class Migration(migrations.Migration):

    dependencies = [
        ("subscriptions", "0010_line_texts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name=name) for name in MOVED],
            database_operations=[],
        ),
    ]
