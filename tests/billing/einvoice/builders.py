"""Sellers, buyers and invoices for the e-invoice tests, issued through the real services.

Every identifier here passes its check digits (the documents are validated, identifiers
included). Prices are the test catalog's (tests/factories.py): Professional 30.00 EUR,
330.00 SEK, 340.00 NOK, 220.00 DKK per seat per month.
"""

import datetime

from accounts.models import Tenant
from billing.invoicing import invoice_buyer_snapshot, invoice_totals, seller_snapshot
from billing.issuing import invoices_issue
from billing.models import BillingRun, Invoice, InvoiceLine, SellerBankAccount, SellerEntity
from billing.references import reference_for
from severa import clock
from subscriptions.models import Subscription
from subscriptions.services import Desired, quote_confirm, quote_create, subscription_create
from tests.factories import (
    BillingDetailsFactory,
    SellerEntityFactory,
    TenantFactory,
    catalog_create,
)

SELLERS = {
    "FI": {
        "name": "Severa Finland Oy",
        "business_id": "2464491-9",
        "vat_number": "FI24644919",
        "street_address": "Keilaranta 1",
        "postal_code": "02150",
        "city": "Espoo",
    },
    "SE": {
        "name": "Severa Sverige AB",
        "business_id": "5560360793",
        "vat_number": "SE556036079301",
        "street_address": "Sveavägen 44",
        "postal_code": "111 34",
        "city": "Stockholm",
    },
    "NO": {
        "name": "Severa Norge AS",
        "business_id": "974760673",
        "vat_number": "NO974760673MVA",
        "street_address": "Karenslyst allé 56",
        "postal_code": "0277",
        "city": "Oslo",
    },
    "DK": {
        "name": "Severa Danmark ApS",
        "business_id": "13585628",
        "vat_number": "DK13585628",
        "street_address": "Lautrupvang 1",
        "postal_code": "2750",
        "city": "Ballerup",
    },
}
BANKS = {
    "FI": ("FI2112345600000785", "NDEAFIHH"),
    "SE": ("SE4550000000058398257466", "ESSESESS"),
    "NO": ("NO9386011117947", "DNBANOKK"),
    "DK": ("DK5000400440116243", "DABADKKK"),
}
BUYERS = {
    "FI": {"business_id": "0112038-9", "vat_number": "FI01120389"},
    "SE": {"business_id": "5567321707", "vat_number": "SE556732170701"},
    "NO": {"business_id": "923609016", "vat_number": "NO923609016MVA"},
    "DK": {"business_id": "10150817", "vat_number": "DK10150817"},
    "DE": {"business_id": "", "vat_number": "DE136695976"},
}
ADDRESSES = {
    "FI": ("Mannerheimintie 12 B", "00100", "Helsinki"),
    "SE": ("Drottninggatan 5", "111 51", "Stockholm"),
    "NO": ("Storgata 1", "0155", "Oslo"),
    "DK": ("Strøget 10", "1160", "København K"),
    "DE": ("Friedrichstraße 100", "10117", "Berlin"),
}
CURRENCIES = ("EUR", "SEK", "NOK", "DKK")


def seller_create(country: str = "FI", *, cash_rounding: bool = False, **fields) -> SellerEntity:
    """A seller of `country` with a bank account of that country in every currency."""
    seller = SellerEntityFactory(
        country=country,
        cash_rounding=cash_rounding,
        bank_accounts=(),
        **{**SELLERS[country], **fields},
    )
    iban, bic = BANKS[country]
    for currency in CURRENCIES:
        SellerBankAccount.objects.create(seller=seller, currency=currency, iban=iban, bic=bic)
    return seller


def buyer_create(
    country: str = "FI",
    *,
    name: str | None = None,
    einvoice_address: str = "",
    einvoice_operator: str = "",
    peppol_id: str = "",
    address: tuple[str, str, str] | None = None,
    **fields,
) -> Tenant:
    """A buyer company of `country` with its billing details (no eInvoice routing unless
    given)."""
    tenant = TenantFactory(
        country=country, **{**BUYERS[country], **fields}, **({"name": name} if name else {})
    )
    street, postal_code, city = address or ADDRESSES[country]
    BillingDetailsFactory(
        tenant=tenant,
        street_address=street,
        postal_code=postal_code,
        city=city,
        country=country,
        einvoice_address=einvoice_address,
        einvoice_operator=einvoice_operator,
        peppol_id=peppol_id,
    )
    return tenant


def invoice_issue(
    *,
    tenant: Tenant,
    seller: SellerEntity,
    currency: str = "EUR",
    seats: int = 2,
    upgrade_to_seats: int | None = None,
    invoice_date: datetime.date = datetime.date(2024, 8, 19),
    period_months: int = 1,
) -> Invoice:
    """A Professional subscription from 2024-08-01 (optionally raised to `upgrade_to_seats`
    on 2024-08-16), invoiced by the weekly run on `invoice_date`: the invoice it issued."""
    catalog_create()
    start = datetime.date(2024, 8, 1)
    with clock.frozen(start):
        subscription = subscription_create(
            tenant=tenant,
            seller=seller,
            currency=currency,
            edition="professional",
            seats=seats,
            storage_gb=10,
            period_months=period_months,
            first_period_start=start,
            actor=None,
        )
    if upgrade_to_seats is not None:
        with clock.frozen(datetime.date(2024, 8, 16)):
            subscription = Subscription.objects.get(pk=subscription.pk)
            quote = quote_create(
                subscription=subscription, desired=Desired(seats=upgrade_to_seats), actor=None
            )
            quote_confirm(quote=quote, actor=None)
    run, _ = BillingRun.objects.get_or_create(
        kind="invoicing", run_date=invoice_date, defaults={"started_at": clock.now()}
    )
    with clock.frozen(invoice_date):
        invoices_issue(billing_run=run, invoice_date=invoice_date)
    return Invoice.objects.filter(tenant=tenant).order_by("-id").first()


def invoice_with_lines(
    *,
    tenant: Tenant,
    seller: SellerEntity,
    lines: list[dict],
    currency: str = "EUR",
    invoice_date: datetime.date = datetime.date(2024, 9, 2),
    vat_note: str = "",
    number: int = 9001,
) -> Invoice:
    """An issued invoice built directly from `lines` (dicts of InvoiceLine fields), with its
    totals computed as the engine computes them: for lines the engine would never put on one
    invoice, such as two Finnish VAT rates."""
    line_objects = [InvoiceLine(**spec) for spec in lines]
    net, vat, rounding, total = invoice_totals(
        lines=line_objects, currency=currency, cash_rounding=seller.cash_rounding
    )
    invoice = Invoice.objects.create(
        tenant=tenant,
        seller=seller,
        series=seller.invoice_series,
        number=number,
        invoice_date=invoice_date,
        due_date=invoice_date + datetime.timedelta(days=seller.payment_terms_days),
        currency=currency,
        reference=reference_for(seller.country, f"1{number:07d}"),
        seller_snapshot=seller_snapshot(seller=seller, currency=currency),
        buyer_snapshot=invoice_buyer_snapshot(tenant=tenant),
        vat_note=vat_note,
        net=net,
        vat=vat,
        rounding=rounding,
        total=total,
        issued_at=datetime.datetime.combine(invoice_date, datetime.time(6), tzinfo=datetime.UTC),
    )
    for position, line in enumerate(line_objects, start=1):
        line.tenant = tenant
        line.invoice = invoice
        line.position = position
    InvoiceLine.objects.bulk_create(line_objects)
    return invoice
