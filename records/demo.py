"""A few business records for each demo tenant (``manage.py seed_demo``): units, products,
a business unit, a cost centre, employees of its users, a customer with an address and a
contact, a won project with a fee, and a draft invoice. Idempotent: a tenant that has
customers already is left alone."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import Tenant
from accounts.tenancy import tenant_scope
from records import services
from records.models import Customer


@dataclass(frozen=True)
class DemoRecords:
    business_id: str  # finds the demo tenant (subscriptions/demo.py TENANTS)
    vat_rate: Decimal
    hourly_price: Decimal
    customer: dict
    address: dict


DEMO_RECORDS = (
    DemoRecords(
        "1572860-0",
        Decimal("25.50"),
        Decimal("95.00"),
        {"number": "1001", "name": "Pohjola Rakennus Oy", "organisation_number": "2331972-7"},
        {"street": "Hämeenkatu 1", "postal_code": "33100", "city": "Tampere", "country": "FI"},
    ),
    DemoRecords(
        "5560360793",
        Decimal("25.00"),
        Decimal("1100.00"),
        {"number": "1001", "name": "Norrland Energi AB", "organisation_number": "5565475489"},
        {"street": "Storgatan 3", "postal_code": "90326", "city": "Umeå", "country": "SE"},
    ),
    DemoRecords(
        "974760673",
        Decimal("25.00"),
        Decimal("1200.00"),
        {"number": "1001", "name": "Vestland Shipping AS", "organisation_number": "981566378"},
        {"street": "Strandkaien 2", "postal_code": "5013", "city": "Bergen", "country": "NO"},
    ),
)


def records_demo_seed() -> None:
    for demo in DEMO_RECORDS:
        tenant = Tenant.objects.filter(business_id=demo.business_id).first()
        if tenant is None:
            continue
        with tenant_scope(tenant):
            if Customer.objects.filter(tenant=tenant).exists():
                continue
            _seed(tenant, demo)


def _seed(tenant: Tenant, demo: DemoRecords) -> None:
    # The demo's companies are seeded, not created by accounts.services.tenant_create.
    services.invoice_statuses_default(tenant=tenant)
    services.employee_sync_from_members(tenant=tenant)
    hour = services.unit_create(tenant=tenant, data={"code": "h", "name": "hour"})
    km = services.unit_create(tenant=tenant, data={"code": "km", "name": "kilometre"})
    consulting = services.product_create(
        tenant=tenant,
        data={
            "kind": "work_type",
            "code": "1001",
            "name": "Consulting",
            "unit": hour,
            "price": demo.hourly_price,
            "vat_rate": demo.vat_rate,
        },
    )
    mileage = services.product_create(
        tenant=tenant,
        data={
            "kind": "travel",
            "code": "2001",
            "name": "Mileage",
            "unit": km,
            "price": Decimal("0.59"),
            "vat_rate": demo.vat_rate,
        },
    )
    business_unit = services.business_unit_create(
        tenant=tenant, data={"code": "100", "name": "Consulting"}
    )
    cost_centre = services.cost_centre_create(tenant=tenant, data={"code": "10", "name": "Sales"})
    customer = services.customer_create(
        tenant=tenant,
        data={
            **demo.customer,
            "kind": "company",
            "email": "ap@customer.demo.severa.test",
            "addresses": [{"kind": "invoice", **demo.address}],
            "contacts": [
                {"first_name": "Alex", "last_name": "Andersen", "email": "alex@customer.test"}
            ],
        },
    )
    project = services.project_create(
        tenant=tenant,
        data={
            "number": "P-1001",
            "name": "Office renovation",
            "customer": customer,
            "sales_status": "won",
        },
    )
    services.project_fee_create(
        tenant=tenant,
        data={
            "project": project,
            "description": "Hotel, site visit",
            "date": datetime.date(2025, 5, 20),
            "quantity": Decimal("2"),
            "unit_cost": Decimal("110.00"),
            "unit_price": Decimal("130.00"),
            "is_billable": True,
        },
    )
    services.customer_invoice_create(
        tenant=tenant,
        data={
            "customer": customer,
            "project": project,
            "invoice_date": datetime.date(2025, 5, 31),
            "due_date": datetime.date(2025, 6, 14),
            "currency": {"FI": "EUR", "SE": "SEK", "NO": "NOK"}.get(tenant.country, "EUR"),
            "rows": [
                {
                    "product": consulting,
                    "quantity": Decimal("12"),
                    "business_unit": business_unit,
                    "cost_centre": cost_centre,
                },
                {"product": mileage, "quantity": Decimal("84")},
            ],
        },
    )
