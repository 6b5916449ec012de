# The e-mail outbox, until now billing's (billing 0004, 0007), becomes this app's: every
# e-mail goes through it, and accounts, the lowest app, may not import billing. Here in the
# migration state only: the table keeps its name (db_table), rows, sequence and indexes; the
# content type follows the model. Billing 0016 then moves each message's invoice and link to
# its InvoiceMessage, and accounts 0005 changes the table (before billing 0016 had copied
# them, a table rebuilt from this state, as SQLite does, would lose those columns).

import django.db.models.deletion
from django.db import migrations, models


def _content_type_move(apps, schema_editor, *, source, target):
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.using(schema_editor.connection.alias)
    # A fresh database has no content types yet; one that has the target keeps it.
    if not rows.filter(app_label=target, model="outboxmessage").exists():
        rows.filter(app_label=source, model="outboxmessage").update(app_label=target)


def content_type_to_accounts(apps, schema_editor):
    _content_type_move(apps, schema_editor, source="billing", target="accounts")


def content_type_to_billing(apps, schema_editor):
    _content_type_move(apps, schema_editor, source="accounts", target="billing")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_user_manager_announces_updates"),
        ("billing", "0015_line_kinds_of_issued_lines"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="OutboxMessage",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(max_length=32)),
                        ("to", models.EmailField(max_length=254)),
                        ("subject", models.CharField(max_length=300)),
                        ("body", models.TextField()),
                        ("dedupe_key", models.CharField(max_length=400, unique=True)),
                        ("status", models.CharField(choices=[("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed"), ("cancelled", "Cancelled")], default="pending", max_length=16)),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField()),
                        ("last_error", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField()),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("tenant", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.tenant")),
                        ("partner", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.partner")),
                    ],
                    options={
                        "db_table": "billing_outboxmessage",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(condition=models.Q(("status", "pending")), fields=["next_attempt_at"], name="outbox_message_due"),
                            models.Index(fields=["status", "-created_at"], name="outbox_message_status"),
                        ],
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(models.Q(("partner__isnull", True), ("tenant__isnull", False)), models.Q(("partner__isnull", False), ("tenant__isnull", True)), _connector="OR"), name="outbox_message_tenant_or_partner"),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_type_to_accounts, content_type_to_billing),
    ]
