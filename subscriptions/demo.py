"""Demo data for a first local run: a catalog, three tenants with their subscriptions, a
partner and an operator (the sellers are billing's demo; partners.demo runs every app's seed
in order). Idempotent: running it again changes nothing and creates nothing twice."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

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
from severa.money import CURRENCY_MINOR_UNITS
from subscriptions.models import (
    AddOn,
    AddOnPricing,
    Edition,
    Interface,
    InterfaceSystem,
    Price,
    StorageTier,
    Subscription,
)
from subscriptions.services import subscription_create

if TYPE_CHECKING:
    # The seller is billing's model: the demo seed gets it from billing's own demo.
    from billing.models import SellerEntity

DEMO_PASSWORD = "severa-demo"  # noqa: S105 - printed for the demo on purpose
DEMO_PARTNER_BUSINESS_ID = "0112038-9"
PRICES_FROM = datetime.date(2024, 1, 1)

# Monthly prices per currency: EUR, SEK, NOK, DKK.
EDITIONS = [
    ("professional", "Professional", 1, 10, ("29.00", "329.00", "339.00", "219.00")),
    ("business", "Business", 2, 50, ("45.00", "509.00", "525.00", "339.00")),
    ("enterprise", "Enterprise", 3, 100, ("69.00", "779.00", "805.00", "519.00")),
]
ADD_ONS = [
    (
        "resource-planning",
        "Resource planning",
        AddOnPricing.PER_SEAT,
        "business",
        [],
        ("6.00", "68.00", "70.00", "45.00"),
    ),
    (
        "power-bi",
        "Power BI reporting",
        AddOnPricing.FLAT,
        "business",
        ["enterprise"],
        ("99.00", "1120.00", "1155.00", "745.00"),
    ),
    (
        "travel-expenses",
        "Travel and expenses",
        AddOnPricing.PER_SEAT,
        None,
        [],
        ("3.00", "34.00", "35.00", "22.00"),
    ),
]
INTERFACES = [
    ("fortnox", "Fortnox", InterfaceSystem.FORTNOX, ("49.00", "549.00", "569.00", "369.00")),
    (
        "visma-global",
        "Visma Global",
        InterfaceSystem.VISMA_GLOBAL,
        ("59.00", "669.00", "689.00", "445.00"),
    ),
    (
        "visma-eekonomi",
        "Visma eEkonomi",
        InterfaceSystem.VISMA_EEKONOMI,
        ("39.00", "439.00", "455.00", "295.00"),
    ),
    (
        "visma-net",
        "Visma.net ERP",
        InterfaceSystem.VISMA_NET,
        ("59.00", "669.00", "689.00", "445.00"),
    ),
]
STORAGE = [
    (10, ("0.00",) * 4),
    (50, ("20.00", "225.00", "235.00", "150.00")),
    (100, ("35.00", "395.00", "409.00", "262.00")),
    (500, ("120.00", "1355.00", "1399.00", "895.00")),
]

# Fixed TOTP keys so the printed demo logins can be replayed (never used outside DEBUG).
DEMO_TOTP_KEYS = {
    "operator": "3132333435363738393031323334353637383930",
    "aino.admin": "4142434445464748494a4b4c4d4e4f5051525354",
    "erik.admin": "6162636465666768696a6b6c6d6e6f7071727374",
    "ingrid.admin": "30313233343536373839616263646566676869",
    "paula.partner": "7a797877767574737271706968676665646362ab",
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    place: str
    has_two_factor: bool


def _prices(**item) -> None:
    values = item.pop("values")
    for currency, amount in zip(CURRENCY_MINOR_UNITS, values, strict=True):
        Price.objects.get_or_create(
            currency=currency,
            valid_from=PRICES_FROM,
            **item,
            defaults={"amount_per_month": Decimal(amount)},
        )


def _catalog() -> None:
    editions = {}
    for code, name, rank, storage, values in EDITIONS:
        edition, _ = Edition.objects.get_or_create(
            code=code, defaults={"name": name, "rank": rank, "included_storage_gb": storage}
        )
        editions[code] = edition
        _prices(edition=edition, values=values)
    for code, name, pricing, minimum, included, values in ADD_ONS:
        add_on, created = AddOn.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "pricing": pricing,
                "minimum_edition": editions.get(minimum) if minimum else None,
            },
        )
        if created:
            add_on.included_in.set([editions[c] for c in included])
        _prices(add_on=add_on, values=values)
    for code, name, system, values in INTERFACES:
        interface, _ = Interface.objects.get_or_create(
            code=code, defaults={"name": name, "system": system}
        )
        _prices(interface=interface, values=values)
    for gigabytes, values in STORAGE:
        tier, _ = StorageTier.objects.get_or_create(
            gigabytes=gigabytes, defaults={"code": f"{gigabytes}gb"}
        )
        _prices(storage_tier=tier, values=values)




# country: currency, edition, seats, storage GB, add-ons, interfaces, period months, first
# period start. The Norwegian customer moved from Severa Norge AS to the Finnish seller.
SUBSCRIPTIONS = {
    "FI": ("EUR", "business", 8, 100, {"resource-planning"}, set(), 3, datetime.date(2025, 2, 1)),
    "SE": (
        "SEK",
        "professional",
        5,
        10,
        {"travel-expenses"},
        {"fortnox"},
        1,
        datetime.date(2025, 3, 1),
    ),
    "NO": ("NOK", "enterprise", 12, 100, set(), {"visma-net"}, 12, datetime.date(2025, 4, 1)),
}


def _subscriptions(tenants: dict[str, Tenant], seller: SellerEntity) -> None:
    for country, plan in SUBSCRIPTIONS.items():
        tenant = tenants[country]
        if Subscription.objects.filter(tenant=tenant).exists():
            continue
        currency, edition, seats, storage, add_ons, interfaces, months, start = plan
        subscription_create(
            tenant=tenant,
            seller=seller,
            currency=currency,
            edition=edition,
            seats=seats,
            storage_gb=storage,
            add_ons=frozenset(add_ons),
            interfaces=frozenset(interfaces),
            period_months=months,
            first_period_start=start,
            actor=None,
        )


def _user(username: str, first: str, last: str, *, operator: bool = False) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@demo.severa.test",
            is_staff=operator,
            is_superuser=operator,
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
    key = DEMO_TOTP_KEYS.get(username)
    if key:
        TOTPDevice.objects.get_or_create(
            user=user, name="Demo authenticator", defaults={"key": key, "confirmed": True}
        )
    return user


TENANTS = [
    (
        "Aalto Consulting Oy",
        "FI",
        "1572860-0",
        "FI15728600",
        "fi",
        [
            ("aino.admin", "Aino", "Aalto", Role.ADMIN),
            ("mikko.member", "Mikko", "Mäki", Role.MEMBER),
        ],
    ),
    (
        "Berg & Lind AB",
        "SE",
        "5560360793",
        "SE556036079301",
        "sv",
        [
            ("erik.admin", "Erik", "Berg", Role.ADMIN),
            ("sara.billing", "Sara", "Lind", Role.BILLING),
        ],
    ),
    (
        "Fjord Design AS",
        "NO",
        "974760673",
        "NO974760673MVA",
        "nb",
        [
            ("ingrid.admin", "Ingrid", "Fjeld", Role.ADMIN),
            ("ola.member", "Ola", "Nordmann", Role.MEMBER),
        ],
    ),
]


@transaction.atomic
def demo_seed(*, seller: SellerEntity) -> list[DemoLogin]:
    """The catalog, the demo companies, their users and subscriptions (sold by ``seller``),
    the partner organisation and the operator; the logins to print."""
    logins: list[DemoLogin] = []
    with scopes_disabled():
        _catalog()
        tenants = {}
        for name, country, business_id, vat, language, users in TENANTS:
            tenant, _ = Tenant.objects.get_or_create(
                business_id=business_id,
                defaults={
                    "name": name,
                    "country": country,
                    "vat_number": vat,
                    "language": language,
                },
            )
            tenants[country] = tenant
            for username, first, last, role in users:
                user = _user(username, first, last)
                Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": role})
                logins.append(DemoLogin(username, str(role), name, username in DEMO_TOTP_KEYS))
        # The partner's engagements are the partners app's (partners/demo.py).
        partner, _ = Partner.objects.get_or_create(
            business_id=DEMO_PARTNER_BUSINESS_ID,
            defaults={
                "name": "Tilitoimisto Numero Oy",
                "country": "FI",
                "support_email": "tuki@tilitoimisto-numero.example",
            },
        )
        partner_user = _user("paula.partner", "Paula", "Partanen")
        PartnerMembership.objects.get_or_create(partner=partner, user=partner_user)
        Collaboration.objects.get_or_create(
            partner=partner,
            tenant=tenants["SE"],
            defaults={"engagement": "Bookkeeping 2025", "status": CollaborationStatus.ACTIVE},
        )
        logins.append(DemoLogin("paula.partner", "partner", partner.name, True))
        _subscriptions(tenants, seller)
        _user("operator", "Olga", "Operator", operator=True)
        logins.append(DemoLogin("operator", "operator", "all tenants", True))
    return logins
