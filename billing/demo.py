"""Demo billing details and contacts for the demo tenants (``manage.py seed_demo``).
Idempotent: what exists already is left alone, so a second run creates nothing."""

from dataclasses import dataclass

from accounts.models import Tenant, User
from accounts.tenancy import tenant_scope
from billing.contacts import billing_contact_add, billing_contacts_list
from billing.details import billing_details_update
from billing.models import BillingDetails, SellerBankAccount, SellerEntity


@dataclass(frozen=True)
class DemoBilling:
    business_id: str  # finds the demo tenant (subscriptions/demo.py TENANTS)
    details: dict[str, str]
    usernames: tuple[str, ...]  # users of the tenant who are billing contacts
    external: tuple[tuple[str, str], ...] = ()  # (e-mail, name)


DEMO_BILLING = (
    DemoBilling(
        "1572860-0",
        {
            "street_address": "Mannerheimintie 12 B",
            "postal_code": "00100",
            "city": "Helsinki",
            "country": "FI",
            "business_id": "1572860-0",
            "vat_number": "FI15728600",
            "einvoice_address": "003715728600",
            "einvoice_operator": "003721291126",
        },
        ("aino.admin",),
        (("ostolaskut@aalto.demo.severa.test", "Aalto Consulting accounts payable"),),
    ),
    DemoBilling(
        "5560360793",
        {
            "street_address": "Drottninggatan 10",
            "postal_code": "111 51",
            "city": "Stockholm",
            "country": "SE",
            "business_id": "5560360793",
            "vat_number": "SE556036079301",
            "peppol_id": "0007:5560360793",
        },
        ("sara.billing",),
    ),
    DemoBilling(
        "974760673",
        {
            "street_address": "Bryggen 5",
            "postal_code": "5003",
            "city": "Bergen",
            "country": "NO",
            "business_id": "974760673",
            "vat_number": "NO974760673MVA",
            "peppol_id": "0192:974760673",
        },
        ("ingrid.admin",),
    ),
)


def billing_demo_seed() -> None:
    for demo in DEMO_BILLING:
        tenant = Tenant.objects.filter(business_id=demo.business_id).first()
        if tenant is None:
            continue
        with tenant_scope(tenant):
            if not BillingDetails.objects.filter(tenant=tenant).exists():
                billing_details_update(tenant=tenant, data=demo.details, actor=None)
            addresses = {
                contact.address.lower() for contact in billing_contacts_list(tenant=tenant)
            }
            for username in demo.usernames:
                user = User.objects.filter(username=username).first()
                if user is not None and user.email.lower() not in addresses:
                    billing_contact_add(tenant=tenant, actor=None, user=user)
            for email, name in demo.external:
                if email not in addresses:
                    billing_contact_add(tenant=tenant, actor=None, email=email, name=name)


def demo_sellers() -> tuple[SellerEntity, SellerEntity]:
    """The demo sellers, Finnish and Norwegian, with their bank accounts (idempotent)."""
    finland, _ = SellerEntity.objects.get_or_create(
        business_id="2464491-9",
        defaults={
            "name": "Severa Finland Oy",
            "vat_number": "FI24644919",
            "street_address": "Keilaranta 1",
            "postal_code": "02150",
            "city": "Espoo",
            "country": "FI",
            "invoice_series": "FI",
            "cash_rounding": True,
            "terms_version": "2025-04",
            "invoicing_email": "invoicing@severa-finland.example",
            "support_email": "support@severa-finland.example",
        },
    )
    # Example accounts (the standard IBAN examples), never a real company's.
    for currency, account in [
        ("EUR", {"iban": "FI2112345600000785", "bic": "NDEAFIHH", "bank_name": "Esimerkkipankki"}),
        (
            "SEK",
            {
                "iban": "SE4550000000058398257466",
                "bic": "ESSESESS",
                "bank_name": "Exempelbanken",
                "bankgiro": "12345674",
            },
        ),
        (
            "NOK",
            {
                "iban": "NO9386011117947",
                "bic": "DNBANOKK",
                "bank_name": "Eksempelbanken",
                "domestic_account_number": "86011117947",
            },
        ),
    ]:
        SellerBankAccount.objects.get_or_create(seller=finland, currency=currency, defaults=account)
    norway, _ = SellerEntity.objects.get_or_create(
        business_id="923609016",
        defaults={
            "name": "Severa Norge AS",
            "vat_number": "NO923609016MVA",
            "street_address": "Karl Johans gate 1",
            "postal_code": "0154",
            "city": "Oslo",
            "country": "NO",
            "invoice_series": "NO",
            "cash_rounding": True,
            "terms_version": "2023-01",
            "invoicing_email": "invoicing@severa-norge.example",
            "support_email": "support@severa-norge.example",
        },
    )
    SellerBankAccount.objects.get_or_create(
        seller=norway,
        currency="NOK",
        defaults={
            "iban": "NO9386011117947",
            "bic": "DNBANOKK",
            "bank_name": "Eksempelbanken",
            "domestic_account_number": "86011117947",
        },
    )
    return finland, norway
