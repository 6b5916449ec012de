"""Downloads of an invoice's e-invoices: the tenant pages
t/<tenant>/billing/invoices/<id>/finvoice and …/ubl, and the API's
GET /api/v1/tenants/{tenant}/invoices/{id}/finvoice and …/ubl. Any invoice downloads in both
formats (for import into accounting), whatever the buyer's delivery details."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from accounts.services import api_token_create
from billing.einvoice import invoice_finvoice, invoice_ubl
from billing.issuing import credit_note_issue
from severa import clock
from tests.billing.einvoice.builders import invoice_issue, seller_create
from tests.factories import BillingDetailsFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(tenant):
    """Aalto Consulting Oy's invoice of 2024-08-19 (no eInvoice address or Peppol id)."""
    with scopes_disabled():
        BillingDetailsFactory(tenant=tenant, einvoice_address="", einvoice_operator="")
        return invoice_issue(tenant=tenant, seller=seller_create("FI"))


@pytest.fixture
def credit_note(invoice):
    with scopes_disabled(), clock.frozen(datetime.date(2024, 8, 20)):
        return credit_note_issue(
            invoice=invoice, lines={invoice.lines.get().pk: Decimal("10.00")}, actor=None
        )


@pytest.fixture
def other_invoice(other_tenant):
    with scopes_disabled():
        BillingDetailsFactory(tenant=other_tenant)
        return invoice_issue(tenant=other_tenant, seller=seller_create("FI"))


def page(tenant, invoice, kind):
    return f"/t/{tenant.pk}/billing/invoices/{invoice.pk}/{kind}"


def api(tenant, invoice, kind):
    return f"/api/v1/tenants/{tenant.pk}/invoices/{invoice.pk}/{kind}"


@pytest.mark.parametrize("kind", ["finvoice", "ubl"])
def test_an_admin_downloads_the_invoice_as_xml(
    verified_client, admin_user, tenant, invoice, kind, assert_finvoice_valid, assert_ubl_valid
):
    response = verified_client(admin_user).get(page(tenant, invoice, kind))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == (
        f'attachment; filename="invoice-{invoice.display_number}-{kind}.xml"'
    )
    with scopes_disabled():
        expected = invoice_finvoice(invoice) if kind == "finvoice" else invoice_ubl(invoice)
    assert response.content == expected
    (assert_finvoice_valid if kind == "finvoice" else assert_ubl_valid)(response.content)


def test_a_billing_user_downloads_a_credit_note(client, tenant, credit_note, assert_ubl_valid):
    with scopes_disabled():
        user = MembershipFactory(tenant=tenant, role="billing").user
    client.force_login(user)

    response = client.get(page(tenant, credit_note, "ubl"))

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="credit-note-{credit_note.display_number}-ubl.xml"'
    )
    assert b"<CreditNote" in response.content
    assert_ubl_valid(response.content)


@pytest.mark.parametrize("kind", ["finvoice", "ubl"])
def test_members_and_other_tenants_get_nothing(
    client, verified_client, member_user, other_admin, tenant, other_tenant, invoice, kind
):
    client.force_login(member_user)
    assert client.get(page(tenant, invoice, kind)).status_code == 403
    other = verified_client(other_admin)
    # Another tenant's admin: neither through its own tenant nor through ours.
    assert other.get(page(other_tenant, invoice, kind)).status_code == 404
    assert other.get(page(tenant, invoice, kind)).status_code == 404


def test_a_page_download_is_read_only(verified_client, admin_user, tenant, invoice):
    response = verified_client(admin_user).post(page(tenant, invoice, "ubl"))
    assert response.status_code == 405


# The API.


@pytest.fixture
def api_client(admin_user, no_two_factor):
    _token, key = api_token_create(user=admin_user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.mark.parametrize("kind", ["finvoice", "ubl"])
def test_the_api_serves_both_formats(api_client, tenant, invoice, kind):
    response = api_client.get(api(tenant, invoice, kind), HTTP_ACCEPT="application/xml")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == (
        f'attachment; filename="invoice-{invoice.display_number}-{kind}.xml"'
    )
    with scopes_disabled():
        expected = invoice_finvoice(invoice) if kind == "finvoice" else invoice_ubl(invoice)
    assert response.content == expected
    # Without an Accept header too.
    assert api_client.get(api(tenant, invoice, kind)).content == expected


def test_the_api_answers_404_in_json_for_another_tenants_invoice(
    api_client, tenant, other_tenant, other_invoice
):
    response = api_client.get(api(tenant, other_invoice, "ubl"), HTTP_ACCEPT="application/xml")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert api_client.get(api(other_tenant, other_invoice, "finvoice")).status_code == 404


def test_the_api_schema_documents_the_downloads_as_xml(api_client):
    schema = api_client.get("/api/v1/schema/?format=json").json()
    for kind in ("finvoice", "ubl"):
        operation = schema["paths"][
            f"/api/v1/tenants/{{tenant_id}}/invoices/{{invoice_id}}/{kind}"
        ]["get"]
        content = operation["responses"]["200"]["content"]
        assert content == {"application/xml": {"schema": {"type": "string", "format": "binary"}}}
        assert {"401", "403", "404"} <= set(operation["responses"])


def test_a_download_reads_the_invoice_in_a_fixed_number_of_queries(
    api_client, tenant, invoice, django_assert_max_num_queries
):
    # Authentication, tenant access and the invoice with its lines (and credited invoice).
    with django_assert_max_num_queries(8):
        assert api_client.get(api(tenant, invoice, "ubl")).status_code == 200


def test_the_invoice_page_links_both_xml_downloads(verified_client, admin_user, tenant, unscoped):
    from django.urls import reverse

    from tests.factories import invoice_create

    invoice = invoice_create(tenant)
    client = verified_client(admin_user)
    page = client.get(reverse("tenant_invoice_detail", args=[tenant.pk, invoice.pk]))
    body = page.content.decode()
    assert reverse("tenant_invoice_finvoice", args=[tenant.pk, invoice.pk]) in body
    assert reverse("tenant_invoice_ubl", args=[tenant.pk, invoice.pk]) in body
