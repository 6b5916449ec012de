"""E-invoices are written in the buyer's language: the line texts and the VAT note stored on
the invoice when it was issued. Every document must still validate."""

import pytest
from lxml import etree

from billing.einvoice import invoice_finvoice, invoice_ubl
from billing.einvoice.validation import split_soap_frame
from tests.billing.einvoice.builders import buyer_create, invoice_issue, seller_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped", "einvoice_artefacts")]

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
MAVENTA = "003721291126"


def _finvoice(xml: bytes) -> etree._Element:
    return etree.fromstring(split_soap_frame(xml)[1])


def test_a_finnish_buyers_finvoice_names_its_lines_in_finnish(assert_finvoice_valid):
    tenant = buyer_create(
        "FI", einvoice_address="003701120389", einvoice_operator=MAVENTA, language="fi"
    )
    invoice = invoice_issue(tenant=tenant, seller=seller_create("FI"), seats=2, upgrade_to_seats=4)

    xml = invoice_finvoice(invoice)

    assert_finvoice_valid(xml)
    names = [row.findtext("ArticleName") for row in _finvoice(xml).iterfind("InvoiceRow")]
    assert names == [
        "Professional, käyttäjälisenssit",
        "Professional, lisää käyttäjälisenssejä",
    ]


def test_a_reverse_charged_finvoice_carries_the_note_in_finnish(assert_finvoice_valid):
    # A Swedish seller to a Finnish business with a VAT number: reverse charge.
    tenant = buyer_create(
        "FI", einvoice_address="003701120389", einvoice_operator=MAVENTA, language="fi"
    )
    invoice = invoice_issue(tenant=tenant, seller=seller_create("SE"), currency="SEK", seats=1)
    assert invoice.vat_note_kind == "reverse_charge"

    xml = invoice_finvoice(invoice)

    assert_finvoice_valid(xml)
    root = _finvoice(xml)
    note = "Käännetty verovelvollisuus: ALV-direktiivi 2006/112/EY 196 art."
    assert root.findtext("InvoiceDetails/InvoiceFreeText") == note
    assert root.findtext("InvoiceDetails/VatSpecificationDetails/VatFreeText") == note


def test_a_swedish_buyers_peppol_invoice_is_in_swedish(assert_ubl_valid):
    # A Finnish seller to a Swedish business with a VAT number: reverse charge.
    tenant = buyer_create("SE", peppol_id="0007:5567321707", language="sv")
    invoice = invoice_issue(tenant=tenant, seller=seller_create("FI"), seats=2, upgrade_to_seats=3)

    xml = invoice_ubl(invoice)

    assert_ubl_valid(xml)
    root = etree.fromstring(xml)
    names = [element.text for element in root.iterfind("cac:InvoiceLine/cac:Item/cbc:Name", NS)]
    assert names == [
        "Professional, användarlicenser",
        "Professional, ytterligare användarlicenser",
    ]
    note = "Omvänd betalningsskyldighet: momsdirektivet 2006/112/EG art. 196"
    assert root.findtext("cbc:Note", namespaces=NS) == note
    reasons = root.iterfind(
        "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReason", NS
    )
    assert [element.text for element in reasons] == [note]
