# The outbox table as accounts wants it, once billing 0016 has moved the invoice and link
# columns out: a message may belong to neither a tenant nor a partner (mail about a user's own
# account), the kind names any template, a message may go to several addresses and carry one
# attachment.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_outbox_message_from_billing"),
        ("billing", "0016_outbox_message_to_accounts"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="outboxmessage",
            name="outbox_message_tenant_or_partner",
        ),
        migrations.AddConstraint(
            model_name="outboxmessage",
            constraint=models.CheckConstraint(condition=models.Q(("tenant__isnull", True), ("partner__isnull", True), _connector="OR"), name="outbox_message_not_both_tenant_or_partner"),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="kind",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="to",
            field=models.CharField(max_length=2000),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="attachment_name",
            field=models.CharField(blank=True, default="", max_length=200),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="attachment_type",
            field=models.CharField(blank=True, default="", max_length=100),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="attachment",
            field=models.BinaryField(blank=True, null=True),
        ),
    ]
