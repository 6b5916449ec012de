"""The demo partner's engagements (``manage.py seed_demo``): one tied to the customer it
collaborates with, one free for the next. ``subscriptions.demo`` makes the partner, its user
and the collaboration first. Idempotent like the rest of the demo."""

from django.db import transaction
from django_scopes import scopes_disabled

from accounts.models import Collaboration, Partner
from partners.models import Engagement
from severa import clock
from subscriptions.demo import DEMO_PARTNER_BUSINESS_ID

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
