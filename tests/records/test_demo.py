import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from records.models import (
    Customer,
    CustomerInvoice,
    Employee,
    InvoiceStatus,
    Product,
    ProjectFee,
)

pytestmark = pytest.mark.django_db


def test_the_demo_tenants_get_a_few_business_records_once():
    call_command("seed_demo")
    call_command("seed_demo")
    with scopes_disabled():
        assert Customer.objects.count() == 3
        assert Product.objects.count() == 6
        assert ProjectFee.objects.count() == 3
        assert Employee.objects.count() == 6
        invoice = CustomerInvoice.objects.get(tenant__country="SE")
        # The first status of the tenant's default list (named in the tenant's language).
        first_status = InvoiceStatus.objects.filter(tenant=invoice.tenant).first()
        assert (invoice.currency, invoice.status, invoice.rows.count()) == ("SEK", first_status, 2)
        assert sorted(Customer.objects.values_list("addresses__country", flat=True)) == [
            "FI",
            "NO",
            "SE",
        ]
