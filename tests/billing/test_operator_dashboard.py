"""The operator dashboard (recurring revenue chart, this month's invoices, failed deliveries,
failing integrations, the billing schedule) and Run now on the Billing runs page."""

import datetime
import re
from decimal import Decimal

import pytest
from django.test import override_settings

from accounts.models import OutboxMessage
from billing.models import (
    BillingRun,
    Invoice,
    InvoiceLine,
    InvoiceState,
)
from billing.revenue import month_starts, monthly_revenue
from billing.schedule import billing_schedule
from integrations.models import Connection, ConnectionStatus, SyncRun
from severa import clock
from tests.factories import SellerEntityFactory, connection_create_for, invoice_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]
NOW = datetime.datetime(2025, 7, 15, 9, 0, tzinfo=datetime.UTC)  # a Tuesday, 12:00 in Helsinki


@pytest.fixture
def operator_client(verified_client, operator):
    return verified_client(operator)


def text(response) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def revenue(tenant, other_tenant):
    finland = SellerEntityFactory(name="Severa Finland Oy")
    sweden = SellerEntityFactory(name="Severa Sverige AB")
    june = invoice_create(tenant, seller=finland)  # 100.00 for 1-30 June
    spread = invoice_create(other_tenant, seller=finland, net="30.00")
    # 30.00 for 16 June - 15 July: 15 days in each month.
    InvoiceLine.objects.filter(invoice=spread).update(
        period_start=datetime.date(2025, 6, 16), period_end=datetime.date(2025, 7, 15)
    )
    swedish = invoice_create(tenant, seller=sweden, net="1200.00")
    Invoice.objects.filter(pk=swedish.pk).update(currency="SEK")
    # A year, 1 Jan - 31 Dec 2025: 1200 × 31/365 = 101.92 for July.
    InvoiceLine.objects.filter(invoice=swedish).update(
        period_start=datetime.date(2025, 1, 1), period_end=datetime.date(2025, 12, 31)
    )
    return june


def test_monthly_revenue_spreads_each_line_over_its_days(revenue):
    assert month_starts(datetime.date(2025, 7, 15))[0] == datetime.date(2024, 8, 1)
    series = monthly_revenue(datetime.date(2025, 7, 15))
    assert [(item.currency, item.seller) for item in series] == [
        ("EUR", "Severa Finland Oy"),
        ("SEK", "Severa Sverige AB"),
    ]
    euro, krona = series
    assert euro.amounts[-2:] == [Decimal("115.00"), Decimal("15.00")]
    assert euro.amounts[:10] == [Decimal("0.00")] * 10
    # January has 31 days, February 28: 1200 × 31/365 and 1200 × 28/365.
    assert krona.amounts[5:7] == [Decimal("101.92"), Decimal("92.05")]
    assert krona.amounts[:5] == [Decimal("0.00")] * 5


def test_the_dashboard_shows_revenue_invoices_deliveries_and_integrations(
    operator_client, tenant, revenue
):
    Invoice.objects.filter(pk=revenue.pk).update(invoice_date=datetime.date(2025, 7, 1))
    OutboxMessage.objects.filter().delete()
    connection = connection_create_for(tenant)
    Connection.objects.filter(pk=connection.pk).update(status=ConnectionStatus.ACTIVE)
    SyncRun.objects.create(
        tenant=tenant, connection=connection, trigger="scheduled", status="failed", created_at=NOW
    )

    with clock.frozen(NOW):
        page = text(operator_client.get("/operator/"))

    assert "1 invoice issued" in page  # dated 1 July; the others are dated 9 June
    # All three were due on 23 June and none is paid.
    assert "3 invoices overdue" in page
    assert "0 e-mails failed" in page and "0 e-invoices failed" in page
    assert '<svg class="chart"' in page
    # Scripts, styles and images come from the site itself, never from elsewhere.
    assets = re.findall(r'(?:src|rel="stylesheet" href)="([^"]*)"', page)
    assert assets and all(url.startswith("/") for url in assets)
    assert page.count('<polyline class="series') == 2  # one line in each currency's chart
    assert "<td>Severa Finland Oy</td>" in page
    assert '>€115.00</td><td class="num">€15.00</td></tr>' in page
    assert ">SEK101.92</td></tr>" in page  # July, the last month
    assert 'data-testid="failing-connections"' in page and "Failed" in page
    # Next run tomorrow at 03:00 Helsinki; the invoicing day is next Monday.
    assert "16 Jul 2025, 03:00:00" in page
    assert "21 Jul 2025" in page


def test_the_schedule_knows_when_the_invoicing_run_of_today_is_done():
    monday = datetime.datetime(2025, 7, 14, 1, 0, tzinfo=datetime.UTC)  # 04:00 in Helsinki
    with override_settings(INVOICING_WEEKDAY=0):
        assert billing_schedule(now=monday).next_invoicing_day == datetime.date(2025, 7, 14)
        BillingRun.objects.create(
            kind="invoicing",
            run_date=datetime.date(2025, 7, 14),
            status="finished",
            started_at=monday,
        )
        schedule = billing_schedule(now=monday)
    assert schedule.next_invoicing_day == datetime.date(2025, 7, 21)
    assert schedule.next_daily_run == datetime.datetime(2025, 7, 15, 0, 0, tzinfo=datetime.UTC)


def test_the_billing_runs_page_explains_the_schedule_and_runs_now_once(operator_client):
    with clock.frozen(NOW):
        page = text(operator_client.get("/operator/billing-runs/"))
        assert "Every night at 03:00 (Europe/Helsinki)" in page
        assert "On Mondays it also issues the invoices" in page
        assert 'action="/operator/billing-runs/run-now/"' in page
        assert "<script" not in page.split("<main")[1]
        assert operator_client.get("/operator/billing-runs/run-now/").status_code == 405

        first = text(operator_client.post("/operator/billing-runs/run-now/", follow=True))
        runs = BillingRun.objects.count()
        again = text(operator_client.post("/operator/billing-runs/run-now/", follow=True))

    assert "billing run is queued" in first
    # The eager test worker ran it: rollover and overdue marking of 15 July (a Tuesday).
    assert runs == 2
    assert set(BillingRun.objects.values_list("kind", "run_date")) == {
        ("rollover", datetime.date(2025, 7, 15)),
        ("overdue", datetime.date(2025, 7, 15)),
    }
    assert "was queued a moment ago already" in again
    assert BillingRun.objects.count() == 2


def test_run_now_needs_the_csrf_token(operator_client):
    operator_client.handler.enforce_csrf_checks = True
    assert operator_client.post("/operator/billing-runs/run-now/").status_code == 403
    assert BillingRun.objects.count() == 0


def test_paid_invoices_are_not_overdue(operator_client, tenant):
    invoice = invoice_create(tenant)
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceState.PAID)
    with clock.frozen(NOW):
        assert "0 invoices overdue" in text(operator_client.get("/operator/"))


def test_the_chart_coordinates_are_plain_numbers_in_every_language(operator_client, revenue):
    operator_client.cookies["django_language"] = "fi"
    with clock.frozen(NOW):
        page = operator_client.get("/operator/").content.decode()
    svg = page.split('<svg class="chart"')[1].split("</svg>")[0]
    coordinates = re.findall(r' (?:x|y|x1|x2|y1|y2)="([^"]*)"', svg)
    assert coordinates and all(re.fullmatch(r"-?\d+(\.\d+)?", value) for value in coordinates)
    for points in re.findall(r'points="([^"]*)"', svg):
        assert re.fullmatch(r"(\d+(\.\d+)?,\d+(\.\d+)? ?)+", points), points
    assert "heinä 2025" in svg  # the months in Finnish
    assert "0,00\xa0€" in svg


def test_the_operators_tenant_list_is_paged(operator_client):
    from tests.factories import TenantFactory

    for number in range(52):
        TenantFactory(name=f"Yritys {number:02d} Oy")
    first = text(operator_client.get("/operator/"))
    second = text(operator_client.get("/operator/?page=2"))
    assert "Yritys 00 Oy" in first and "Yritys 49 Oy" in first
    assert "Yritys 50 Oy" not in first
    assert "Yritys 51 Oy" in second and "Yritys 00 Oy" not in second
    assert "Page 1 of 2" in first


def test_run_now_can_be_pressed_again_when_queueing_failed(operator_client, monkeypatch):
    from billing import tasks

    def broker_down():
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.daily_run, "delay", broker_down)
    operator_client.raise_request_exception = False
    with clock.frozen(NOW):
        assert operator_client.post("/operator/billing-runs/run-now/").status_code == 500
        monkeypatch.undo()
        page = text(operator_client.post("/operator/billing-runs/run-now/", follow=True))
    assert "billing run is queued" in page
    assert BillingRun.objects.count() == 2
