"""The partner overview: agreements ending within 60 days, customers waiting for approval,
the partner's open invoices."""

import datetime
import re

import pytest
from django_scopes import scopes_disabled

from accounts.models import CollaborationStatus
from billing.models import Invoice, InvoiceLine
from severa import clock
from tests.factories import CollaborationFactory, SubscriptionFactory, TenantFactory, invoice_create

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2025, 6, 20)


def text(response) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def customer(partner, name, *, agreement_end=None, status=CollaborationStatus.ACTIVE):
    tenant = TenantFactory(name=name)
    CollaborationFactory(tenant=tenant, partner=partner, status=status)
    SubscriptionFactory(tenant=tenant, agreement_end=agreement_end)
    return tenant


def test_the_overview_lists_ending_agreements_waiting_customers_and_open_invoices(
    partner, partner_user, other_partner, verified_client
):
    with scopes_disabled():
        customer(partner, "Alfa Oy", agreement_end=datetime.date(2025, 8, 19))  # day 60
        customer(partner, "Beta Oy", agreement_end=datetime.date(2025, 7, 1))
        customer(partner, "Gamma Oy", agreement_end=datetime.date(2025, 8, 20))  # day 61
        customer(partner, "Delta Oy", agreement_end=datetime.date(2025, 6, 19))  # ended
        customer(partner, "Epsilon Oy", status=CollaborationStatus.PENDING)
        customer(other_partner, "Zeta Oy", agreement_end=datetime.date(2025, 7, 1))
        consolidated = invoice_create(TenantFactory())
        Invoice.objects.filter(pk=consolidated.pk).update(tenant=None, partner=partner)
        InvoiceLine.objects.filter(invoice=consolidated).update(partner=partner)
        foreign = invoice_create(TenantFactory())
        Invoice.objects.filter(pk=foreign.pk).update(tenant=None, partner=other_partner)
    client = verified_client(partner_user)

    with clock.frozen(TODAY):
        page = text(client.get(f"/p/{partner.pk}/"))

    ending = page.split('data-testid="ending"')[1].split("</section>")[0]
    assert re.findall(r">(\w+ Oy)</a>: ([^<]+)</li>", ending) == [
        ("Beta Oy", "1 Jul 2025"),
        ("Alfa Oy", "19 Aug 2025"),
    ]
    waiting = page.split('data-testid="waiting"')[1].split("</section>")[0]
    assert "Epsilon Oy" in waiting and "Alfa Oy" not in waiting
    invoices = page.split('data-testid="open-invoices"')[1].split("</section>")[0]
    assert "1 open invoice, €125.50" in invoices
    assert f'href="/p/{partner.pk}/billing/invoices/{consolidated.pk}/"' in invoices
    assert foreign.display_number not in page
