# The outbox moved to accounts (accounts 0004): this app's model leaves the state, its table
# stays. The invoice and link a message carried move, row for row, to InvoiceMessage, keyed
# by the message; their columns leave the outbox table.

import django.db.models.deletion
from django.db import migrations, models


def invoice_messages_copy(apps, schema_editor):
    old = apps.get_model("billing", "OutboxMessage")
    new = apps.get_model("billing", "InvoiceMessage")
    db = schema_editor.connection.alias
    new.objects.using(db).bulk_create(
        new(
            message_id=row.pk,
            tenant_id=row.tenant_id,
            partner_id=row.partner_id,
            invoice_id=row.invoice_id,
            link_id=row.link_id,
        )
        for row in old.objects.using(db).filter(invoice__isnull=False).iterator()
    )


def invoice_messages_copy_back(apps, schema_editor):
    old = apps.get_model("billing", "OutboxMessage")
    new = apps.get_model("billing", "InvoiceMessage")
    db = schema_editor.connection.alias
    for row in new.objects.using(db).iterator():
        old.objects.using(db).filter(pk=row.message_id).update(
            invoice_id=row.invoice_id, link_id=row.link_id
        )


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_outbox_message_from_billing"),
        ("billing", "0015_line_kinds_of_issued_lines"),
    ]

    operations = [
        migrations.CreateModel(
            name="InvoiceMessage",
            fields=[
                ("message", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name="invoice_message", serialize=False, to="accounts.outboxmessage")),
                ("tenant", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.tenant")),
                ("partner", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.partner")),
                ("invoice", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="messages", to="billing.invoice")),
                ("link", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="messages", to="billing.invoicelink")),
            ],
            options={
                "constraints": [models.CheckConstraint(condition=models.Q(models.Q(("partner__isnull", True), ("tenant__isnull", False)), models.Q(("partner__isnull", False), ("tenant__isnull", True)), _connector="OR"), name="invoice_message_tenant_or_partner")],
            },
        ),
        migrations.RunPython(invoice_messages_copy, invoice_messages_copy_back),
        migrations.RemoveField(model_name="outboxmessage", name="invoice"),
        migrations.RemoveField(model_name="outboxmessage", name="link"),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="OutboxMessage")],
            database_operations=[],
        ),
    ]
