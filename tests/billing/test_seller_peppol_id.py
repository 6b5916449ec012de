"""The seller's own Peppol participant id (seed 004): checked on entry like a buyer's, frozen
with the seller on its invoices and used as the sender's endpoint in the UBL document; the
billing details page offers "Enable e-invoicing" and "Edit e-invoice address or operator"."""

import pytest
from django.test import Client
from lxml import etree

from accounts.services import api_token_create
from billing.admin import SellerEntityForm
from billing.einvoice import invoice_ubl
from tests.factories import (
    BillingDetailsFactory,
    SellerEntityFactory,
    invoice_issue_through_services,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]
NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
SUPPLIER_ENDPOINT = "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID"


def _form(seller, peppol_id: str) -> SellerEntityForm:
    data = {
        field: getattr(seller, field)
        for field in (
            "name",
            "business_id",
            "vat_number",
            "street_address",
            "postal_code",
            "city",
            "country",
            "payment_terms_days",
            "invoice_series",
            "terms_version",
        )
    }
    return SellerEntityForm(data={**data, "peppol_id": peppol_id}, instance=seller)


def test_the_admin_stores_a_valid_peppol_id_compact_and_refuses_a_wrong_one():
    seller = SellerEntityFactory()
    form = _form(seller, "0007: 556036-0793")
    assert form.is_valid(), form.errors
    assert form.save().peppol_id == "0007:5560360793"

    form = _form(seller, "0007:5560360794")
    assert not form.is_valid()
    assert form.errors["peppol_id"][0].startswith("Invalid checksum")
    seller.refresh_from_db()
    assert seller.peppol_id == "0007:5560360793"


def test_the_ubl_names_the_sellers_own_peppol_id_as_the_senders_endpoint(tenant):
    seller = SellerEntityFactory(peppol_id="0007:5560360793")
    BillingDetailsFactory(tenant=tenant, peppol_id="0216:003701120389")
    invoice = invoice_issue_through_services(tenant, seller=seller)
    assert invoice.seller_snapshot["peppol_id"] == "0007:5560360793"

    endpoint = etree.fromstring(invoice_ubl(invoice)).find(SUPPLIER_ENDPOINT, NS)
    assert (endpoint.get("schemeID"), endpoint.text) == ("0007", "5560360793")


def test_without_one_the_endpoint_is_derived_from_the_business_id(tenant):
    BillingDetailsFactory(tenant=tenant, peppol_id="0216:003701120389")
    invoice = invoice_issue_through_services(tenant)
    endpoint = etree.fromstring(invoice_ubl(invoice)).find(SUPPLIER_ENDPOINT, NS)
    assert (endpoint.get("schemeID"), endpoint.text) == ("0216", "003724644919")


def test_the_sellers_api_lists_the_peppol_id(operator, settings):
    settings.TWO_FACTOR_REQUIRED = False
    SellerEntityFactory(peppol_id="0007:5560360793")
    _token, key = api_token_create(user=operator)
    [row] = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/sellers").json()["results"]
    assert row["peppol_id"] == "0007:5560360793"


def test_the_billing_details_page_offers_to_enable_then_to_edit_e_invoicing(
    tenant, admin_user, client, settings
):
    settings.TWO_FACTOR_REQUIRED = False
    client.force_login(admin_user)
    url = f"/t/{tenant.pk}/billing/details/"
    page = client.get(url).content.decode()
    assert "<summary>Enable e-invoicing</summary>" in page
    assert "Edit e-invoice address or operator" not in page

    BillingDetailsFactory(
        tenant=tenant, einvoice_address="003701120389", einvoice_operator="003721291126"
    )
    page = client.get(url).content.decode()
    assert "<summary>Edit e-invoice address or operator</summary>" in page
    assert "E-invoices go to 003701120389 through operator 003721291126." in page
