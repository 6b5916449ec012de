"""The company overview: subscription, seats, next period, scheduled changes, last orders,
open and overdue invoices, integration health, each for the roles that may see it."""

import datetime
import re

import pytest
from django_scopes import scopes_disabled

from billing.models import Invoice, InvoiceState
from integrations.models import Connection, ConnectionStatus, SyncRun, SyncRunStatus
from severa import clock
from subscriptions.models import ScheduledChange
from subscriptions.services import Desired, quote_confirm, quote_create
from tests.factories import (
    MembershipFactory,
    SubscriptionFactory,
    connection_create_for,
    invoice_create,
)

pytestmark = pytest.mark.django_db
SEED_DAY = datetime.date(2025, 6, 5)


def text(response) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_overview_shows_the_subscription_its_next_period_changes_and_orders(
    tenant, admin_user, verified_client
):
    with scopes_disabled():
        subscription = SubscriptionFactory(tenant=tenant, seats=5)
        MembershipFactory(tenant=tenant)
        with clock.frozen(SEED_DAY):
            quote = quote_create(
                subscription=subscription, desired=Desired(seats=3), actor=admin_user
            )
            order = quote_confirm(quote=quote, actor=admin_user)
        change = ScheduledChange.objects.get()
    client = verified_client(admin_user)

    with clock.frozen(datetime.date(2025, 6, 24)):
        page = text(client.get(f"/t/{tenant.pk}/"))

    assert "Professional edition" in page
    assert "2 of 5 in use" in page
    assert '<progress class="seats" max="5" value="2"' in page
    # Next period 2025-08-01..10-31 with 3 seats: 30.00 × 3 × 3 = 270.00 + 25.5 % = 338.85
    assert "1 Aug 2025 – 31 Oct 2025: <strong>€338.85</strong>" in page
    assert f"{change.description}, 1 Aug 2025" in page
    assert f'/upgrades/orders/{order.pk}/">{tenant.pk}-0001</a> 5 Jun 2025' in page
    assert "No accounting system is connected." in page


def test_open_and_overdue_invoices_with_their_links(tenant, admin_user, verified_client):
    with scopes_disabled():
        first, second, paid = (invoice_create(tenant) for _ in range(3))
        Invoice.objects.filter(pk=paid.pk).update(status=InvoiceState.PAID)
    client = verified_client(admin_user)

    with clock.frozen(datetime.date(2025, 6, 23)):
        on_time = text(client.get(f"/t/{tenant.pk}/"))
    with clock.frozen(datetime.date(2025, 6, 24)):
        late = text(client.get(f"/t/{tenant.pk}/"))

    # 2 × (100.00 + 25.50); the paid one is not open.
    assert "2 open invoices, €251.00" in on_time
    assert "overdue" not in on_time.lower()
    assert (
        f'href="/t/{tenant.pk}/billing/invoices/{first.pk}/">{first.display_number}</a>' in on_time
    )
    assert f"/billing/invoices/{paid.pk}/" not in on_time
    assert "due 23 Jun 2025" in on_time
    assert '2 open invoices, €251.00 · <strong class="warning">2 overdue</strong>' in late
    assert late.count('<span class="badge warning">Overdue</span>') == 2
    assert second.display_number in late


def test_each_role_sees_its_own_parts(tenant, verified_client):
    with scopes_disabled():
        SubscriptionFactory(tenant=tenant, seats=5)
        invoice_create(tenant)
        billing = MembershipFactory(tenant=tenant, role="billing").user
        member = MembershipFactory(tenant=tenant, role="member").user

    billing_page = text(verified_client(billing).get(f"/t/{tenant.pk}/"))
    assert 'data-testid="open-invoices"' in billing_page
    assert 'data-testid="subscription"' not in billing_page
    member_page = text(verified_client(member).get(f"/t/{tenant.pk}/"))
    assert 'data-testid="open-invoices"' not in member_page
    assert 'data-testid="subscription"' not in member_page


def test_integration_health_shows_the_last_run_and_recent_failures(
    tenant, admin_user, verified_client
):
    now = datetime.datetime(2025, 6, 20, 9, 0, tzinfo=datetime.UTC)
    with scopes_disabled():
        connection = connection_create_for(tenant)
        Connection.objects.filter(pk=connection.pk).update(status=ConnectionStatus.ACTIVE)
        for days, status in (
            (10, SyncRunStatus.FAILED),
            (2, SyncRunStatus.PARTIAL),
            (1, SyncRunStatus.FAILED),
            (0, SyncRunStatus.SUCCEEDED),
        ):
            SyncRun.objects.create(
                tenant=tenant,
                connection=connection,
                trigger="scheduled",
                status=status,
                created_at=now - datetime.timedelta(days=days, hours=1),
            )
    client = verified_client(admin_user)

    with clock.frozen(now):
        page = text(client.get(f"/t/{tenant.pk}/"))

    assert 'data-testid="integrations"' in page
    assert 'Fortnox</a>: <span class="badge">Active</span>' in page
    assert "last run 20 Jun 2025" in page and ": Succeeded" in page
    # The run 10 days ago is outside the 7 days.
    assert "2 failed runs in 7 days" in page


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("fi", ["Avoimet laskut", "1 avoin lasku, 125,50\xa0€", "eräpäivä 23.6.2025"]),
        ("sv", ["Öppna fakturor", "1 öppen faktura, 125,50\xa0€", "förfaller 23 juni 2025"]),
        ("nb", ["Åpne fakturaer", "1 åpen faktura, 125,50\xa0€", "forfaller 23. juni 2025"]),
    ],
)
def test_the_overview_speaks_the_users_language(
    tenant, admin_user, verified_client, language, shown
):
    with scopes_disabled():
        invoice_create(tenant)
    client = verified_client(admin_user)
    client.cookies["django_language"] = language
    with clock.frozen(datetime.date(2025, 6, 20)):
        page = client.get(f"/t/{tenant.pk}/").content.decode()
    for phrase in shown:
        assert phrase in page, phrase
