"""Order history (DESIGN §3.6): pages and API for admins, billing users, partners and
operators; another tenant's orders answer 404."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled
from pypdf import PdfReader

from accounts.services import api_token_create
from subscriptions.models import OrderConfirmation, OrderKind
from tests.factories import (
    CollaborationFactory,
    MembershipFactory,
    OrderConfirmationFactory,
    PartnerMembershipFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(tenant, unscoped):
    """Two orders, the renewal newer than the change."""
    change = OrderConfirmationFactory(tenant=tenant)
    renewal = OrderConfirmationFactory(
        tenant=tenant,
        kind=OrderKind.RENEWAL,
        made_on=datetime.date(2025, 8, 1),
        summary={},
        line_specs=[
            {
                "description": "Professional, 7 seats",
                "unit_price": "30.00",
                "quantity": 7,
                "net": "630.00",
            }
        ],
        line_period_start=datetime.date(2025, 8, 1),
        line_period_end=datetime.date(2025, 10, 31),
    )
    return change, renewal


@pytest.fixture
def foreign_order(other_tenant, unscoped):
    return OrderConfirmationFactory(tenant=other_tenant)


@pytest.fixture
def billing_user(tenant, unscoped):
    return MembershipFactory(tenant=tenant, role="billing").user


def page_urls(tenant_id, order_id):
    base = f"/t/{tenant_id}/upgrades/orders/"
    return base, f"{base}{order_id}/", f"{base}{order_id}/pdf"


@pytest.mark.parametrize("role", ["admin", "billing"])
def test_the_order_history_lists_every_order_newest_first_and_each_opens(
    role, tenant, orders, verified_client, unscoped
):
    change, renewal = orders
    client = verified_client(MembershipFactory(tenant=tenant, role=role).user)
    listing, detail, _pdf = page_urls(tenant.pk, change.pk)

    response = client.get(listing)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(renewal.number) < html.index(change.number)
    assert "€237.94" in html  # the change: 189.59 + 25.5 % VAT
    assert "€790.65" in html  # the renewal: 630.00 + 160.65
    assert "5 Jun 2025" in html and "1 Aug 2025" in html
    assert "Renewal" in html and "Change" in html
    assert f'href="{detail}"' in html

    page = client.get(detail)
    assert page.status_code == 200
    html = page.content.decode()
    for text in (
        f"Order confirmation {change.number}",
        "Professional seats: 2 more",
        "Resource planning add-on",
        "5 Jun 2025 – 31 Jul 2025",
        "€111.52",
        "€189.59",
        "€48.35",
        "€237.94",
        "25.5",
        "Changes taking effect later",
        "File storage down to 10 GB",
        "Power BI reporting",
        "Next full period",
        "€948.78",
        "Not e-mailed yet.",
        f'href="/t/{tenant.pk}/upgrades/orders/{change.pk}/pdf"',
    ):
        assert text in html, text


def test_a_renewal_without_summary_opens_without_later_changes(
    tenant, orders, admin_user, verified_client
):
    _change, renewal = orders
    html = verified_client(admin_user).get(page_urls(tenant.pk, renewal.pk)[1]).content.decode()
    assert "Professional, 7 seats" in html
    assert "Changes taking effect later" not in html
    assert "Next full period" not in html


@pytest.mark.parametrize("role", ["admin", "billing"])
def test_the_pdf_download_is_an_attachment_and_is_stored(
    role, tenant, orders, verified_client, unscoped
):
    change, _renewal = orders
    client = verified_client(MembershipFactory(tenant=tenant, role=role).user)

    response = client.get(page_urls(tenant.pk, change.pk)[2])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="order-confirmation-{change.number}.pdf"'
    )
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 1
    assert bytes(OrderConfirmation.objects.get(pk=change.pk).pdf) == response.content


def test_a_stored_pdf_is_served_as_stored(tenant, orders, admin_user, verified_client):
    change, _renewal = orders
    with scopes_disabled():
        order = OrderConfirmation.objects.get(pk=change.pk)
        order.pdf = b"%PDF-1.7 stored"
        order.save(update_fields=["pdf"])

    response = verified_client(admin_user).get(page_urls(tenant.pk, change.pk)[2])

    assert response.content == b"%PDF-1.7 stored"


def test_members_may_not_see_the_order_history(tenant, orders, member_user, verified_client):
    client = verified_client(member_user)
    for url in page_urls(tenant.pk, orders[0].pk):
        assert client.get(url).status_code == 403


def test_partners_and_operators_see_the_order_history(
    tenant, orders, operator, verified_client, unscoped
):
    partner_user = PartnerMembershipFactory().user
    CollaborationFactory(partner=partner_user.partner_memberships.get().partner, tenant=tenant)
    for user in (partner_user, operator):
        client = verified_client(user)
        for url in page_urls(tenant.pk, orders[0].pk):
            assert client.get(url).status_code == 200, (user, url)


def test_another_tenants_order_is_not_found(
    tenant, orders, foreign_order, admin_user, billing_user, verified_client
):
    for user in (admin_user, billing_user):
        client = verified_client(user)
        _listing, detail, pdf = page_urls(tenant.pk, foreign_order.pk)
        assert client.get(detail).status_code == 404
        assert client.get(pdf).status_code == 404
        listing = client.get(page_urls(tenant.pk, 0)[0]).content.decode()
        assert orders[0].number in listing
        assert foreign_order.number not in listing
    with scopes_disabled():
        assert OrderConfirmation.objects.get(pk=foreign_order.pk).pdf is None


def test_the_list_page_query_count_is_flat_in_the_number_of_orders(
    tenant, admin_user, verified_client, unscoped
):
    client = verified_client(admin_user)
    url = page_urls(tenant.pk, 0)[0]
    OrderConfirmationFactory(tenant=tenant)
    client.get(url)  # warm up the session and caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for _ in range(9):
        OrderConfirmationFactory(tenant=tenant)
    with CaptureQueriesContext(connection) as ten:
        assert client.get(url).status_code == 200
    assert len(ten) == len(one)
    assert all('"pdf"' not in query["sql"] for query in ten.captured_queries)


# API


@pytest.fixture
def api(tenant, unscoped):
    def client_for(user):
        from django.test import Client

        _token, key = api_token_create(user=user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    return client_for


def api_urls(tenant_id, order_id):
    base = f"/api/v1/tenants/{tenant_id}/order-confirmations"
    return base, f"{base}/{order_id}", f"{base}/{order_id}/pdf"


@pytest.mark.parametrize("role", ["admin", "billing"])
def test_the_api_lists_orders_newest_first_paginated(role, tenant, orders, api, unscoped):
    change, renewal = orders
    client = api(MembershipFactory(tenant=tenant, role=role).user)

    body = client.get(api_urls(tenant.pk, 0)[0]).json()

    assert body["count"] == 2
    assert [row["number"] for row in body["results"]] == [renewal.number, change.number]
    assert body["results"][1] == {
        "id": change.pk,
        "number": change.number,
        "kind": "change",
        "made_on": "2025-06-05",
        "confirmed_at": body["results"][1]["confirmed_at"],
        "currency": "EUR",
        "net": "189.59",
        "vat": "48.35",
        "total": "237.94",
        "emailed_at": None,
    }
    page = client.get(api_urls(tenant.pk, 0)[0] + "?limit=1&offset=1").json()
    assert [row["number"] for row in page["results"]] == [change.number]


def test_the_api_shows_one_order_with_lines_vat_and_summary(tenant, orders, admin_user, api):
    change, _renewal = orders

    body = api(admin_user).get(api_urls(tenant.pk, change.pk)[1]).json()

    assert body["number"] == change.number
    assert (body["net"], body["vat"], body["total"]) == ("189.59", "48.35", "237.94")
    assert (body["vat_category"], body["vat_rate"], body["vat_note"]) == ("S", "25.50", "")
    assert body["seller"]["name"] == change.seller_snapshot["name"]
    assert body["seller"]["city"] == "Espoo"
    assert body["buyer"]["name"] == "Aalto Consulting Oy"
    assert body["lines"][0] == {
        "position": 1,
        "item_type": "seats",
        "item_code": "professional",
        "description": "Professional seats: 2 more",
        # A free-text line (made by the factory, not by a quote): no kind.
        "kind": "",
        "params": {},
        "unit_price": "30.00",
        "quantity": 2,
        "period_start": "2025-06-05",
        "period_end": "2025-07-31",
        "net": "111.52",
        "vat_rate": "25.50",
        "vat": "28.44",  # 111.52 × 25.5 % = 28.4376
        "total": "139.96",
    }
    assert [line["position"] for line in body["lines"]] == [1, 2]
    assert body["summary"]["scheduled"] == [
        {
            "kind": "storage",
            "description": "File storage down to 10 GB",
            "effective_date": "2025-08-01",
        }
    ]
    assert body["summary"]["removed_add_ons"] == ["Power BI reporting"]
    assert body["summary"]["next_period"]["start"] == "2025-08-01"
    assert body["summary"]["next_period"]["end"] == "2025-10-31"
    assert body["summary"]["next_period"]["total"] == "948.78"
    assert body["summary"]["next_period"]["vat"] == "192.78"


def test_the_api_serves_the_pdf(tenant, orders, billing_user, api):
    change, _renewal = orders
    client = api(billing_user)

    for accept in ("*/*", "application/pdf"):
        response = client.get(api_urls(tenant.pk, change.pk)[2], HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
        assert f"order-confirmation-{change.number}.pdf" in response["Content-Disposition"]


def test_the_api_answers_404_for_another_tenants_order_and_403_to_members(
    tenant, orders, foreign_order, admin_user, member_user, api
):
    client = api(admin_user)
    _listing, detail, pdf = api_urls(tenant.pk, foreign_order.pk)
    for url, accept in ((detail, "application/json"), (pdf, "application/pdf"), (pdf, "*/*")):
        response = client.get(url, HTTP_ACCEPT=accept)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "not_found"
    member = api(member_user)
    for url in api_urls(tenant.pk, orders[0].pk):
        assert member.get(url).status_code == 403


def test_the_schema_documents_the_order_endpoints_and_the_pdf_as_binary(client):
    paths = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    base = "/api/v1/tenants/{tenant_id}/order-confirmations"
    assert {base, base + "/{orderconfirmation_id}", base + "/{orderconfirmation_id}/pdf"} <= set(
        paths
    )
    pdf = paths[base + "/{orderconfirmation_id}/pdf"]["get"]["responses"]["200"]["content"]
    assert pdf == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


def test_the_overview_links_to_the_order_history_except_for_members(
    tenant, billing_user, member_user, verified_client
):
    link = f'href="/t/{tenant.pk}/upgrades/orders/"'
    assert link in verified_client(billing_user).get(f"/t/{tenant.pk}/").content.decode()
    assert link not in verified_client(member_user).get(f"/t/{tenant.pk}/").content.decode()
