import datetime
from decimal import Decimal

import factory
from django_otp.plugins.otp_totp.models import TOTPDevice

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
from billing.models import BillingContact, BillingDetails, SellerBankAccount, SellerEntity
from severa import clock
from subscriptions.models import AddOn, Edition, Interface, Price, StorageTier, Subscription

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

    name = factory.Sequence(lambda n: f"Company {n} Oy")
    country = "FI"
    business_id = "1572860-0"
    vat_number = "FI15728600"


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
