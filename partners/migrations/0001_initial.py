# The partner rows, until now the subscriptions app's (subscriptions 0005, 0007, 0009),
# become this app's: in the migration state only. The tables keep their names (db_table),
# rows, sequences, indexes and constraints; nothing in the database changes but the content
# types, which follow the models (so permissions and admin log entries do too).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The moved models, as content types name them.
MODELS = [
    "engagement",
    "partneractivation",
    "partnerinvitation",
    "partnertermsacceptance",
    "partnertermsversion",
    "supportrequest",
]


def _content_types_move(apps, schema_editor, *, source, target):
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.using(schema_editor.connection.alias)
    for model in MODELS:
        # A fresh database has no content types yet (post_migrate makes them after every
        # migration); one that has the target already keeps it, and the source is stale.
        if not rows.filter(app_label=target, model=model).exists():
            rows.filter(app_label=source, model=model).update(app_label=target)


def content_types_to_partners(apps, schema_editor):
    _content_types_move(apps, schema_editor, source="subscriptions", target="partners")


def content_types_to_subscriptions(apps, schema_editor):
    _content_types_move(apps, schema_editor, source="partners", target="subscriptions")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("accounts", "0002_partner_support_email"),
        ("billing", "0006_einvoice_delivery"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("subscriptions", "0011_partner_models_to_partners"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="PartnerTermsVersion",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("version", models.CharField(max_length=40, unique=True, verbose_name="version")),
                        ("title", models.CharField(max_length=200, verbose_name="title")),
                        ("url", models.URLField(blank=True, verbose_name="address")),
                        ("text", models.TextField(blank=True, verbose_name="text")),
                        ("published_on", models.DateField(verbose_name="published on")),
                    ],
                    options={
                        "db_table": "subscriptions_partnertermsversion",
                        "ordering": ["-published_on", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="Engagement",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=200, verbose_name="name")),
                        ("created_at", models.DateTimeField()),
                        ("customer", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="accounts.tenant", verbose_name="customer")),
                        ("partner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="engagements", to="accounts.partner")),
                    ],
                    options={
                        "db_table": "subscriptions_engagement",
                        "ordering": ["name", "pk"],
                    },
                ),
                migrations.CreateModel(
                    name="PartnerInvitation",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("email", models.EmailField(max_length=254)),
                        ("token_hash", models.CharField(max_length=64, unique=True)),
                        ("created_at", models.DateTimeField()),
                        ("expires_at", models.DateTimeField()),
                        ("accepted_at", models.DateTimeField(blank=True, null=True)),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        ("accepted_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("invited_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("partner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.partner")),
                        ("tenant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="partner_invitations", to="accounts.tenant")),
                    ],
                    options={
                        "db_table": "subscriptions_partnerinvitation",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="PartnerTermsAcceptance",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("version", models.CharField(max_length=40)),
                        ("accepted_at", models.DateTimeField()),
                        ("accepted_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("invitation", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="partners.partnerinvitation")),
                        ("partner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="terms_acceptances", to="accounts.partner")),
                    ],
                    options={
                        "db_table": "subscriptions_partnertermsacceptance",
                        "ordering": ["-accepted_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="SupportRequest",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("requested_edition", models.CharField(max_length=32, verbose_name="requested edition")),
                        ("message", models.TextField(blank=True, verbose_name="message")),
                        ("status", models.CharField(choices=[("open", "Open"), ("resolved", "Resolved")], default="open", max_length=16)),
                        ("created_at", models.DateTimeField()),
                        ("resolved_at", models.DateTimeField(blank=True, null=True)),
                        ("created_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("partner", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="accounts.partner")),
                        ("resolved_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("tenant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="support_requests", to="accounts.tenant")),
                    ],
                    options={
                        "db_table": "subscriptions_supportrequest",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="PartnerActivation",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("scenario", models.CharField(choices=[("existing_subscription", "Customer with a subscription"), ("existing_customer", "Customer without a subscription"), ("new_customer", "New customer")], max_length=32)),
                        ("edition", models.CharField(blank=True, max_length=32)),
                        ("seats", models.PositiveIntegerField(blank=True, null=True)),
                        ("invoice_recipient", models.CharField(choices=[("customer", "Customer"), ("partner", "Partner")], default="customer", max_length=16)),
                        ("agreement_months", models.PositiveSmallIntegerField(blank=True, choices=[(3, "3 months"), (12, "12 months")], null=True)),
                        ("currency", models.CharField(blank=True, max_length=3)),
                        ("status", models.CharField(choices=[("pending", "Waiting for approval"), ("approved", "Approved"), ("cancelled", "Cancelled"), ("declined", "Declined")], default="pending", max_length=16)),
                        ("admin_name", models.CharField(blank=True, max_length=200)),
                        ("admin_email", models.EmailField(blank=True, max_length=254)),
                        ("token_hash", models.CharField(max_length=64, unique=True)),
                        ("expires_at", models.DateTimeField()),
                        ("idempotency_key", models.CharField(blank=True, max_length=255)),
                        ("created_at", models.DateTimeField()),
                        ("approved_at", models.DateTimeField(blank=True, null=True)),
                        ("admin_invitation", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="accounts.invitation")),
                        ("approved_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("collaboration", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="activations", to="accounts.collaboration")),
                        ("created_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("engagement", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="partners.engagement")),
                        ("partner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.partner")),
                        ("seller", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="billing.sellerentity")),
                        ("subscription", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="subscriptions.subscription")),
                        ("tenant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="partner_activations", to="accounts.tenant")),
                    ],
                    options={
                        "db_table": "subscriptions_partneractivation",
                        "ordering": ["-created_at"],
                        "constraints": [
                            models.UniqueConstraint(condition=models.Q(("idempotency_key", ""), _negated=True), fields=("partner", "idempotency_key"), name="partner_activation_idempotency_key"),
                            models.UniqueConstraint(condition=models.Q(("status", "pending")), fields=("tenant", "partner"), name="partner_activation_one_pending_per_pair"),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_to_partners, content_types_to_subscriptions),
    ]
