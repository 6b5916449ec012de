"""Every company has its invoice statuses from its creation on (records registers
``invoice_statuses_default`` with ``accounts.hooks.tenant_created``); a company created
before then without any gets the default list here, as its first look at the list gave it."""

from django.db import migrations
from django.utils import translation
from django.utils.translation import gettext

# records.services.invoices.DEFAULT_INVOICE_STATUSES when this migration was written.
DEFAULT_INVOICE_STATUSES = ("Draft", "Ready to send", "Sent", "Paid")


def statuses_create(apps, schema_editor):
    Tenant = apps.get_model("accounts", "Tenant")
    InvoiceStatus = apps.get_model("records", "InvoiceStatus")
    having = InvoiceStatus.objects.values_list("tenant_id", flat=True).distinct()
    for tenant in Tenant.objects.exclude(pk__in=having).order_by("pk"):
        with translation.override(tenant.language or "en"):
            names = [gettext(name) for name in DEFAULT_INVOICE_STATUSES]
        InvoiceStatus.objects.bulk_create(
            InvoiceStatus(tenant=tenant, name=name, position=(index + 1) * 10)
            for index, name in enumerate(names)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_manager_announces_updates"),
        ("records", "0002_field_labels"),
    ]

    operations = [migrations.RunPython(statuses_create, migrations.RunPython.noop)]
