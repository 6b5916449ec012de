import copy
import datetime
from decimal import Decimal

import factory
from django.db.models import Max
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from accounts.hooks import tenant_created
from accounts.models import (
    Collaboration,
    CollaborationStatus,
    Membership,
    Partner,
    PartnerMembership,
    Role,
    Tenant,
    User,
)
from billing.models import (
    BillingContact,
    BillingDetails,
    Invoice,
    InvoiceLine,
    SellerBankAccount,
    SellerEntity,
)
from severa import clock, line_texts
from severa.vat import vat_amount
from subscriptions.models import (
    AddOn,
    Edition,
    Interface,
    OrderConfirmation,
    OrderKind,
    OrderLine,
    Price,
    StorageTier,
    Subscription,
)

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class OperatorFactory(UserFactory):
    is_staff = True
    is_superuser = True


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Company {n} Oy")
    country = "FI"
    business_id = "1572860-0"
    vat_number = "FI15728600"

    @factory.post_generation
    def apps_told(tenant, create, extracted, **kwargs):  # noqa: N805
        # As accounts.services.tenant_create does: the apps above set the company up (records
        # gives it the default invoice statuses).
        if create:
            with scopes_disabled():
                tenant_created(tenant=tenant)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n} Oy")
    country = "FI"


class PartnerMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerMembership

    partner = factory.SubFactory(PartnerFactory)
    user = factory.SubFactory(UserFactory)


class CollaborationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collaboration

    partner = factory.SubFactory(PartnerFactory)
    tenant = factory.SubFactory(TenantFactory)
    engagement = "Bookkeeping"
    status = CollaborationStatus.ACTIVE


def totp_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def totp_code(device: TOTPDevice, *, offset_steps: int = 0) -> str:

    from django_otp.oath import totp

    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + offset_steps)
    return f"{code:0{device.digits}d}"


# Catalog, sellers and subscriptions. Prices are pinned here (not taken from the demo data) so
# that the tests' expected figures never move with the demo catalog.

CATALOG_PRICES_FROM = datetime.date(2020, 1, 1)
# code: (name, rank, included GB, EUR, SEK, NOK, DKK per seat per month)
TEST_EDITIONS = {
    "professional": ("Professional", 1, 10, "30.00", "330.00", "340.00", "220.00"),
    "business": ("Business", 2, 50, "46.00", "510.00", "525.00", "340.00"),
    "enterprise": ("Enterprise", 3, 100, "70.00", "780.00", "805.00", "520.00"),
}
# code: (name, pricing, minimum edition, included in, EUR, SEK, NOK, DKK per month)
TEST_ADD_ONS = {
    "resource-planning": (
        "Resource planning",
        "per_seat",
        "business",
        (),
        "6.00",
        "68.00",
        "70.00",
        "45.00",
    ),
    "power-bi": (
        "Power BI reporting",
        "flat",
        "business",
        ("enterprise",),
        "99.00",
        "1120.00",
        "1155.00",
        "745.00",
    ),
    "travel-expenses": (
        "Travel and expenses",
        "per_seat",
        None,
        (),
        "3.00",
        "34.00",
        "35.00",
        "22.00",
    ),
}
TEST_INTERFACES = {
    "fortnox": ("Fortnox", "fortnox", "49.00", "549.00", "569.00", "369.00"),
    "visma-global": ("Visma Global", "visma_global", "59.00", "669.00", "689.00", "445.00"),
    "visma-eekonomi": ("Visma eEkonomi", "visma_eekonomi", "39.00", "439.00", "455.00", "295.00"),
    "visma-net": ("Visma.net ERP", "visma_net", "59.00", "669.00", "689.00", "445.00"),
}
# gigabytes: EUR, SEK, NOK, DKK per month
TEST_STORAGE = {
    10: ("0.00", "0.00", "0.00", "0.00"),
    50: ("20.00", "225.00", "235.00", "150.00"),
    100: ("35.00", "395.00", "409.00", "262.00"),
    500: ("120.00", "1355.00", "1399.00", "895.00"),
}
TEST_CURRENCIES = ("EUR", "SEK", "NOK", "DKK")


def _test_prices(values, **item) -> None:
    for currency, amount in zip(TEST_CURRENCIES, values, strict=True):
        Price.objects.get_or_create(
            currency=currency,
            valid_from=CATALOG_PRICES_FROM,
            **item,
            defaults={"amount_per_month": Decimal(amount)},
        )


def catalog_create() -> None:
    """The test catalog (idempotent): three editions, three add-ons, four interfaces, four
    storage tiers, priced in EUR, SEK, NOK and DKK from 2020-01-01."""
    editions = {}
    for code, (name, rank, storage, *values) in TEST_EDITIONS.items():
        editions[code], _ = Edition.objects.get_or_create(
            code=code, defaults={"name": name, "rank": rank, "included_storage_gb": storage}
        )
        _test_prices(values, edition=editions[code])
    for code, (name, pricing, minimum, included, *values) in TEST_ADD_ONS.items():
        add_on, created = AddOn.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "pricing": pricing,
                "minimum_edition": editions[minimum] if minimum else None,
            },
        )
        if created:
            add_on.included_in.set([editions[c] for c in included])
        _test_prices(values, add_on=add_on)
    for code, (name, system, *values) in TEST_INTERFACES.items():
        interface, _ = Interface.objects.get_or_create(
            code=code, defaults={"name": name, "system": system}
        )
        _test_prices(values, interface=interface)
    for gigabytes, values in TEST_STORAGE.items():
        tier, _ = StorageTier.objects.get_or_create(
            gigabytes=gigabytes, defaults={"code": f"{gigabytes}gb"}
        )
        _test_prices(values, storage_tier=tier)


class SellerEntityFactory(factory.django.DjangoModelFactory):
    """A Finnish seller with a bank account in EUR, SEK and NOK."""

    class Meta:
        model = SellerEntity
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Severa Seller {n} Oy")
    business_id = "2464491-9"
    vat_number = "FI24644919"
    street_address = "Keilaranta 1"
    postal_code = "02150"
    city = "Espoo"
    country = "FI"
    terms_version = "2025-01"

    @factory.post_generation
    def bank_accounts(seller, create, currencies, **kwargs):
        if not create:
            return
        for currency in currencies if currencies is not None else ("EUR", "SEK", "NOK"):
            SellerBankAccount.objects.create(
                seller=seller, currency=currency, iban="FI2112345600000785", bic="NDEAFIHH"
            )


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A Professional subscription of 5 seats, quarterly, in EUR, in the period 2025-05-01..
    2025-07-31 (the catalog is created on demand)."""

    class Meta:
        model = Subscription

    tenant = factory.SubFactory(TenantFactory)
    seller = factory.SubFactory(SellerEntityFactory)
    currency = "EUR"
    edition = factory.LazyFunction(
        lambda: (catalog_create(), Edition.objects.get(code="professional"))[1]
    )
    seats = 5
    storage_gb = 10
    period_months = 3
    period_start = datetime.date(2025, 5, 1)
    period_end = datetime.date(2025, 7, 31)


# Order confirmations, built directly (not through the quote service): a change order
# confirmed on 2025-06-05 in the period 2025-05-01..2025-07-31 (92 days; 57 days left), FI VAT
# 25.5 %, with a storage decrease and a removed add-on scheduled for the next period.

ORDER_LINES = (
    # 2 seats × 30.00 × 3 months × 57/92 = 111.5217… → 111.52
    {
        "item_type": "seats",
        "item_code": "professional",
        "description": "Professional seats: 2 more",
        "unit_price": "30.00",
        "quantity": 2,
        "net": "111.52",
    },
    # 7 seats × 6.00 × 3 months × 57/92 = 78.0652… → 78.07
    {
        "item_type": "add_on",
        "item_code": "resource-planning",
        "description": "Resource planning add-on",
        "unit_price": "6.00",
        "quantity": 7,
        "net": "78.07",
    },
)
ORDER_SUMMARY = {
    "state": {"edition": "professional", "seats": 7, "storage_gb": 10},
    "scheduled": [
        {
            "kind": "storage",
            "value": "10",
            "description": "File storage down to 10 GB",
            "effective_date": "2025-08-01",
        }
    ],
    "removed_add_ons": ["Power BI reporting"],
    "next_period": {
        "start": "2025-08-01",
        "end": "2025-10-31",
        "lines": [
            {
                "description": "Professional, 7 seats",
                "quantity": 7,
                "unit_price": "30.00",
                "net": "630.00",
            },
            {
                "description": "Resource planning, 7 seats",
                "quantity": 7,
                "unit_price": "6.00",
                "net": "126.00",
            },
        ],
        "vat": {"category": "S", "rate": "25.50", "note": ""},
        "net": "756.00",
        "vat_amount": "192.78",
        "total": "948.78",
    },
}


def _order_subscription(tenant: Tenant) -> Subscription:
    with scopes_disabled():
        existing = Subscription.objects.filter(tenant=tenant).first()
    return existing or SubscriptionFactory(tenant=tenant)


def _order_sequence(tenant: Tenant) -> int:
    with scopes_disabled():
        last = OrderConfirmation.objects.filter(tenant=tenant).aggregate(last=Max("sequence"))
    return (last["last"] or 0) + 1


def _order_net(specs) -> Decimal:
    return sum((Decimal(spec["net"]) for spec in specs), Decimal(0))


class OrderConfirmationFactory(factory.django.DjangoModelFactory):
    """An order with `line_specs` (default ORDER_LINES) as its lines; totals follow them."""

    class Meta:
        model = OrderConfirmation

    tenant = factory.SubFactory(TenantFactory)
    subscription = factory.LazyAttribute(lambda o: _order_subscription(o.tenant))
    kind = OrderKind.CHANGE
    sequence = factory.LazyAttribute(lambda o: _order_sequence(o.tenant))
    # A renewal orders the period its lines cover, from its first day.
    renewal_period_start = factory.LazyAttribute(
        lambda o: o.line_period_start if o.kind == OrderKind.RENEWAL else None
    )
    made_on = datetime.date(2025, 6, 5)
    confirmed_at = factory.LazyAttribute(
        lambda o: datetime.datetime.combine(o.made_on, datetime.time(9, 30), tzinfo=datetime.UTC)
    )
    confirmed_by = None
    seller = factory.LazyAttribute(lambda o: o.subscription.seller)
    # As the order service freezes it.
    seller_snapshot = factory.LazyAttribute(lambda o: o.seller.party())
    buyer_snapshot = factory.LazyAttribute(
        lambda o: {
            "name": o.tenant.name,
            "country": o.tenant.country,
            "business_id": o.tenant.business_id,
            "vat_number": o.tenant.vat_number,
            "street_address": "Mannerheimintie 12",
            "postal_code": "00100",
            "city": "Helsinki",
        }
    )
    currency = "EUR"
    vat_category = "S"
    vat_rate = Decimal("25.50")
    vat_note = ""
    line_specs = ORDER_LINES
    line_period_start = datetime.date(2025, 6, 5)
    line_period_end = datetime.date(2025, 7, 31)
    net = factory.LazyAttribute(lambda o: _order_net(o.line_specs))
    vat = factory.LazyAttribute(lambda o: vat_amount(o.net, o.vat_rate, o.currency))
    total = factory.LazyAttribute(lambda o: o.net + o.vat)
    summary = factory.LazyFunction(lambda: copy.deepcopy(ORDER_SUMMARY))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        specs = kwargs.pop("line_specs")
        period = (kwargs.pop("line_period_start"), kwargs.pop("line_period_end"))
        order = super()._create(model_class, *args, **kwargs)
        for position, spec in enumerate(specs, start=1):
            net = Decimal(spec["net"])
            vat = vat_amount(net, order.vat_rate, order.currency)
            OrderLine.objects.create(
                tenant=order.tenant,
                order=order,
                position=position,
                item_type=spec.get("item_type", "seats"),
                item_code=spec.get("item_code", "professional"),
                description=spec["description"],
                unit_price=Decimal(spec["unit_price"]),
                quantity=spec["quantity"],
                period_start=spec.get("period_start", period[0]),
                period_end=spec.get("period_end", period[1]),
                net=net,
                vat_rate=order.vat_rate,
                vat=vat,
                total=net + vat,
            )
        return order


class BillingDetailsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillingDetails

    tenant = factory.SubFactory(TenantFactory)
    street_address = "Mannerheimintie 12 B"
    postal_code = "00100"
    city = "Helsinki"
    country = "FI"
    einvoice_address = "003715728600"
    einvoice_operator = "003721291126"
    updated_at = factory.LazyFunction(clock.now)


class BillingContactFactory(factory.django.DjangoModelFactory):
    """An external billing contact; pass ``user=...`` and ``email=""`` for a user contact."""

    class Meta:
        model = BillingContact

    tenant = factory.SubFactory(TenantFactory)
    email = factory.Sequence(lambda n: f"invoices{n}@example.test")
    name = factory.Sequence(lambda n: f"Accounts payable {n}")
    created_at = factory.LazyFunction(clock.now)


_invoice_numbers = iter(range(1, 10**9))


def invoice_create(tenant: Tenant, *, seller: SellerEntity | None = None, net: str = "100.00"):
    """An issued EUR invoice of one line with 25.5 % VAT, numbered outside the counter (for
    tests that need an invoice, not the issuing)."""
    seller = seller or SellerEntityFactory()
    amount = Decimal(net)
    vat = (amount * Decimal("0.255")).quantize(Decimal("0.01"))
    now = datetime.datetime(2025, 6, 9, 6, 0, tzinfo=datetime.UTC)
    invoice = Invoice.objects.create(
        tenant=tenant,
        seller=seller,
        series="TEST",
        number=next(_invoice_numbers),
        invoice_date=datetime.date(2025, 6, 9),
        due_date=datetime.date(2025, 6, 23),
        currency="EUR",
        reference="100000013",
        seller_snapshot={"name": seller.name, "country": seller.country},
        buyer_snapshot={"name": tenant.name, "country": tenant.country},
        net=amount,
        vat=vat,
        total=amount + vat,
        issued_at=now,
    )
    InvoiceLine.objects.create(
        tenant=tenant,
        invoice=invoice,
        position=1,
        text_kind=line_texts.SEATS,
        params={"edition": "Professional"},
        description=line_texts.line_text(
            line_texts.SEATS,
            {"edition": "Professional"},
            language=line_texts.document_language(tenant),
        ),
        period_start=datetime.date(2025, 6, 1),
        period_end=datetime.date(2025, 6, 30),
        quantity=Decimal(1),
        unit_price=amount,
        vat_category="S",
        vat_rate=Decimal("25.5"),
        net=amount,
    )
    return invoice


# Invoices issued through the real services, with full seller and buyer snapshots (the
# invoice document and delivery tests). Call with scopes disabled.


def invoice_issue_through_services(
    tenant: Tenant,
    *,
    seller: SellerEntity | None = None,
    currency: str = "EUR",
    seats: int = 2,
    upgrade_to_seats: int | None = None,
    invoice_date: datetime.date = datetime.date(2024, 8, 19),
) -> Invoice:
    """A monthly Professional subscription from 2024-08-01 (30.00 EUR a seat), optionally
    raised to `upgrade_to_seats` on 2024-08-16, invoiced by the weekly run on
    `invoice_date`. With the defaults: lines 60.00 (Aug 1-31) and, upgraded, 30.00 × 16/31 a
    seat for Aug 16-31; Finnish VAT of the invoice date (24 % before 2024-09-01)."""
    from billing.issuing import invoices_issue
    from billing.models import BillingRun
    from subscriptions.services import Desired, quote_confirm, quote_create, subscription_create

    catalog_create()
    seller = seller or SellerEntityFactory()
    start = datetime.date(2024, 8, 1)
    with clock.frozen(start):
        subscription = subscription_create(
            tenant=tenant,
            seller=seller,
            currency=currency,
            edition="professional",
            seats=seats,
            storage_gb=10,
            period_months=1,
            first_period_start=start,
            actor=None,
        )
    if upgrade_to_seats is not None:
        with clock.frozen(datetime.date(2024, 8, 16)):
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


# Integrations (integrations/models.py): a Fortnox connection of a tenant whose subscription
# has the Fortnox interface, its runs, transfers and entity map.


def connection_create_for(tenant: Tenant, *, system: str = "fortnox", **values):
    """A connection of `tenant` to `system`, with the interface added to its subscription."""
    from integrations.models import Connection

    catalog_create()
    interface = Interface.objects.get(system=system)
    subscription = Subscription.objects.filter(tenant=tenant).first() or SubscriptionFactory(
        tenant=tenant
    )
    if interface.code not in subscription.interfaces:
        subscription.interfaces = sorted([*subscription.interfaces, interface.code])
        subscription.save(update_fields=["interfaces"])
    existing = Connection.objects.filter(tenant=tenant, system=system).first()
    if existing is not None:
        return existing
    now = clock.now()
    return Connection.objects.create(
        tenant=tenant, system=system, created_at=now, updated_at=now, **values
    )


def sync_run_create(tenant: Tenant, **values):
    from integrations.models import SyncRun, SyncRunStatus

    connection = connection_create_for(tenant)
    values.setdefault("status", SyncRunStatus.SUCCEEDED)
    return SyncRun.objects.create(
        tenant=tenant, connection=connection, trigger="manual", created_at=clock.now(), **values
    )


def transfer_create(tenant: Tenant, **values):
    from integrations.models import Transfer

    run = values.pop("run", None) or sync_run_create(tenant)
    values.setdefault("entity_type", "customer")
    values.setdefault("direction", "to_remote")
    values.setdefault("outcome", "created")
    return Transfer.objects.create(tenant=tenant, run=run, created_at=clock.now(), **values)


def blocked_entity_create(tenant: Tenant, **values):
    from integrations.models import BlockedEntity

    connection = connection_create_for(tenant)
    now = clock.now()
    entity_type = values.pop("entity_type", None) or (
        f"entity_{BlockedEntity.objects.filter(connection=connection).count() + 1}"
    )
    return BlockedEntity.objects.create(
        tenant=tenant,
        connection=connection,
        entity_type=entity_type,
        reason=values.pop("reason", "The module is not licensed."),
        blocked_at=now,
        tried_at=now,
        **values,
    )


def entity_map_create(tenant: Tenant, **values):
    from integrations.models import EntityMap

    connection = connection_create_for(tenant)
    now = clock.now()
    local_id = values.pop("local_id", None) or (
        (EntityMap.objects.filter(connection=connection).aggregate(top=Max("local_id"))["top"] or 0)
        + 1
    )
    return EntityMap.objects.create(
        tenant=tenant,
        connection=connection,
        entity_type=values.pop("entity_type", "customer"),
        local_id=local_id,
        remote_id=values.pop("remote_id", str(local_id)),
        reference=f"severa-{connection.pk}-customer-{local_id}",
        created_at=now,
        updated_at=now,
        **values,
    )


# Business records (records/models.py) ------------------------------------------------------


class BusinessUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.BusinessUnit"

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Department {n}")
    code = factory.Sequence(lambda n: f"D{n}")


class CostCentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.CostCentre"

    tenant = factory.SubFactory(TenantFactory)
    code = factory.Sequence(lambda n: f"CC{n}")
    name = factory.Sequence(lambda n: f"Cost centre {n}")


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.Employee"

    tenant = factory.SubFactory(TenantFactory)
    first_name = "Eeva"
    last_name = factory.Sequence(lambda n: f"Employee{n}")
    email = factory.Sequence(lambda n: f"employee{n}@example.test")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.Unit"

    tenant = factory.SubFactory(TenantFactory)
    code = factory.Sequence(lambda n: f"u{n}")
    name = factory.Sequence(lambda n: f"Unit {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.Product"

    tenant = factory.SubFactory(TenantFactory)
    kind = "work_type"
    code = factory.Sequence(lambda n: str(1000 + n))
    name = factory.Sequence(lambda n: f"Consulting {n}")
    price = Decimal("100.00")
    vat_rate = Decimal("25.50")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.Customer"

    tenant = factory.SubFactory(TenantFactory)
    number = factory.Sequence(lambda n: str(5000 + n))
    name = factory.Sequence(lambda n: f"Customer {n} Oy")
    vat_number = "FI15728600"
    organisation_number = "1572860-0"


class CustomerAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.CustomerAddress"

    customer = factory.SubFactory(CustomerFactory)
    tenant = factory.SelfAttribute("customer.tenant")
    kind = "invoice"
    street = "Mannerheimintie 1"
    postal_code = "00100"
    city = "Helsinki"
    country = "FI"


class CustomerContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.CustomerContact"

    customer = factory.SubFactory(CustomerFactory)
    tenant = factory.SelfAttribute("customer.tenant")
    first_name = "Kaisa"
    last_name = "Kontakti"
    email = "kaisa@example.test"


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.Project"

    customer = factory.SubFactory(CustomerFactory)
    tenant = factory.SelfAttribute("customer.tenant")
    number = factory.Sequence(lambda n: f"P{n}")
    name = factory.Sequence(lambda n: f"Project {n}")
    sales_status = "won"


class InvoiceStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.InvoiceStatus"
        # A tenant starts with the default statuses: asking for one of them by name gets it.
        django_get_or_create = ("tenant", "name")

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Status {n}")
    position = factory.Sequence(lambda n: n)


class CustomerInvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.CustomerInvoice"

    customer = factory.SubFactory(CustomerFactory)
    tenant = factory.SelfAttribute("customer.tenant")
    status = factory.SubFactory(InvoiceStatusFactory, tenant=factory.SelfAttribute("..tenant"))
    number = factory.Sequence(lambda n: str(20000 + n))
    invoice_date = datetime.date(2026, 3, 2)
    currency = "EUR"


class CustomerInvoiceRowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.CustomerInvoiceRow"

    invoice = factory.SubFactory(CustomerInvoiceFactory)
    tenant = factory.SelfAttribute("invoice.tenant")
    position = 1
    description = "Consulting"
    quantity = Decimal("2.00")
    unit_price = Decimal("100.00")
    vat_rate = Decimal("25.50")


class CustomerInvoiceAttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.CustomerInvoiceAttachment"

    invoice = factory.SubFactory(CustomerInvoiceFactory)
    tenant = factory.SelfAttribute("invoice.tenant")
    file_name = "timesheet.pdf"
    content_type = "application/pdf"
    content = b"%PDF-1.4 test"


class ProjectFeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.ProjectFee"

    project = factory.SubFactory(ProjectFactory)
    tenant = factory.SelfAttribute("project.tenant")
    description = "Hotel"
    date = datetime.date(2026, 3, 2)
    quantity = Decimal("1.00")
    unit_cost = Decimal("120.00")
    unit_price = Decimal("150.00")


def agent_create(tenant: Tenant, **values):
    """The agent of `tenant`'s Visma Global connection."""
    from integrations.models import Agent

    connection = connection_create_for(tenant, system="visma_global")
    now = clock.now()
    agent, _created = Agent.objects.get_or_create(
        connection=connection,
        defaults={"tenant": tenant, "created_at": now, "updated_at": now, **values},
    )
    return agent


def agent_job_create(tenant: Tenant, **values):
    from integrations.models import AgentJob

    agent = agent_create(tenant)
    return AgentJob.objects.create(
        tenant=tenant,
        connection=agent.connection,
        operation=values.pop("operation", "company"),
        created_at=clock.now(),
        **values,
    )
