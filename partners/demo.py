"""The demo partner's engagements: one tied to the customer it collaborates with, one free
for the next; and the whole demo in order (``demo_everything``: partners is the highest app
the demo covers, so it may call each app's own seed). Idempotent like the rest of the demo."""

from django.db import transaction
from django_scopes import scopes_disabled

from accounts.models import Collaboration, Partner
from billing.demo import billing_demo_seed, demo_sellers
from partners.models import Engagement
from records.demo import records_demo_seed
from severa import clock
from subscriptions.demo import DEMO_PARTNER_BUSINESS_ID, DemoLogin, demo_seed

DEMO_ENGAGEMENT = "Bookkeeping 2025"
DEMO_FREE_ENGAGEMENT = "Payroll 2026"


@transaction.atomic
def partners_demo_seed() -> None:
    with scopes_disabled():
        partner = Partner.objects.get(business_id=DEMO_PARTNER_BUSINESS_ID)
        customer = Collaboration.objects.get(partner=partner, engagement=DEMO_ENGAGEMENT).tenant
        Engagement.objects.get_or_create(
            partner=partner,
            name=DEMO_ENGAGEMENT,
            defaults={"customer": customer, "created_at": clock.now()},
        )
        Engagement.objects.get_or_create(
            partner=partner, name=DEMO_FREE_ENGAGEMENT, defaults={"created_at": clock.now()}
        )


@transaction.atomic
def demo_everything() -> list[DemoLogin]:
    """Every app's demo data in order (``manage.py seed_demo``): the sellers, the catalog,
    companies, users and subscriptions, their billing details and contacts, their business
    records, then the partner's engagements. Idempotent; returns the logins to print."""
    with scopes_disabled():
        finland, _norway = demo_sellers()
    logins = demo_seed(seller=finland)
    billing_demo_seed()
    records_demo_seed()
    partners_demo_seed()
    return logins
