"""Finvoice 3.0 and Peppol BIS Billing 3.0 documents of invoices issued through the real
services (DESIGN §3.5, §3.6). Every document must validate with zero errors: Finvoice
against its XSD and our own sums and identifier checks, UBL against the UBL 2.1 XSD and the
EN 16931 and Peppol schematron (zero fatal; warnings are printed). Figures are worked out
beside each assertion from the test catalog (Professional 30.00 EUR, 330.00 SEK, 340.00 NOK
per seat per month)."""

import datetime
from decimal import Decimal

import pytest
from lxml import etree

from billing.einvoice import (
    FORMAT_FINVOICE,
    FORMAT_PEPPOL,
    einvoice_format,
    finvoice_soap_envelope,
    invoice_finvoice,
    invoice_finvoice_with_envelope,
    invoice_ubl,
)
from billing.einvoice.validation import finvoice_errors, split_soap_frame
from billing.issuing import credit_note_issue
from billing.models import BillingDetails
from severa import clock
from tests.billing.einvoice.builders import (
    buyer_create,
    invoice_issue,
    invoice_with_lines,
    seller_create,
)
from tests.factories import invoice_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped", "einvoice_artefacts")]

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
MAVENTA = "003721291126"


def finvoice(xml: bytes) -> etree._Element:
    return etree.fromstring(split_soap_frame(xml)[1])


def ubl(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def texts(root: etree._Element, path: str) -> list[str]:
    return [element.text for element in root.iterfind(path, NS)]


def text(root: etree._Element, path: str) -> str:
    found = texts(root, path)
    assert len(found) == 1, (path, found)
    return found[0]


def both_valid(invoice, assert_finvoice_valid, assert_ubl_valid):
    """Both documents of `invoice`, each checked (and returned parsed)."""
    finvoice_xml, ubl_xml = invoice_finvoice(invoice), invoice_ubl(invoice)
    assert_finvoice_valid(finvoice_xml)
    assert_ubl_valid(ubl_xml)
    return finvoice(finvoice_xml), ubl(ubl_xml)


def test_a_domestic_finnish_invoice(assert_finvoice_valid, assert_ubl_valid):
    """Quarterly from 2024-08-01 (92 days), 2 seats, raised to 4 on 2024-08-16 (77 days
    left); invoiced on 2024-08-19 at 24 %."""
    seller = seller_create("FI")
    tenant = buyer_create(
        "FI",
        name="Aalto Consulting Oy",
        einvoice_address="003701120389",
        einvoice_operator=MAVENTA,
        peppol_id="0216:003701120389",
    )
    invoice = invoice_issue(
        tenant=tenant, seller=seller, seats=2, upgrade_to_seats=4, period_months=3
    )
    # 2 × 30.00 × 3 = 180.00; 2 more × 30.00 × 3 × 77/92 = 150.652… → 150.65.
    # Net 330.65, 24 % VAT 79.356 → 79.36, total 410.01.
    assert [line.net for line in invoice.lines.all()] == [Decimal("180.00"), Decimal("150.65")]
    assert (invoice.net, invoice.vat, invoice.total) == (
        Decimal("330.65"),
        Decimal("79.36"),
        Decimal("410.01"),
    )

    fin, doc = both_valid(invoice, assert_finvoice_valid, assert_ubl_valid)

    # Finvoice: routing, parties, totals, VAT, rows with their periods, payment.
    assert text(fin, "MessageTransmissionDetails/MessageSenderDetails/FromIdentifier") == (
        "003724644919"
    )
    assert text(fin, "MessageTransmissionDetails/MessageReceiverDetails/ToIdentifier") == (
        "003701120389"
    )
    assert text(fin, "MessageTransmissionDetails/MessageReceiverDetails/ToIntermediator") == MAVENTA
    assert fin.find("SellerPartyDetails/SellerPartyIdentifier").get("SchemeID") == "0037"
    assert text(fin, "SellerPartyDetails/SellerPartyIdentifier") == "2464491-9"
    assert text(fin, "SellerPartyDetails/SellerOrganisationTaxCode") == "FI24644919"
    assert text(fin, "BuyerPartyDetails/BuyerPartyIdentifier") == "0112038-9"
    assert text(fin, "BuyerPartyDetails/BuyerOrganisationTaxCode") == "FI01120389"
    assert text(fin, "BuyerOrganisationUnitNumber") == "003701120389"
    details = fin.find("InvoiceDetails")
    assert text(details, "InvoiceTypeCode") == "INV01"
    assert text(details, "InvoiceTypeCodeUN") == "380"
    assert text(details, "InvoiceNumber") == invoice.display_number
    assert text(details, "InvoiceDate") == "20240819"
    assert text(details, "InvoiceTotalVatExcludedAmount") == "330,65"
    assert text(details, "InvoiceTotalVatAmount") == "79,36"
    assert text(details, "InvoiceTotalVatIncludedAmount") == "410,01"
    assert details.find("InvoiceTotalRoundoffAmount") is None
    assert texts(details, "VatSpecificationDetails/VatRatePercent") == ["24"]
    assert texts(details, "VatSpecificationDetails/VatRateAmount") == ["79,36"]
    assert text(details, "PaymentTermsDetails/InvoiceDueDate") == "20240902"
    rows = fin.findall("InvoiceRow")
    assert [(text(r, "StartDate"), text(r, "EndDate")) for r in rows] == [
        ("20240801", "20241031"),
        ("20240816", "20241031"),
    ]
    # The row's unit price is its net unit price: 150.65 / 2 = 75.325.
    assert [text(r, "InvoicedQuantity") for r in rows] == ["2", "2"]
    assert [text(r, "UnitPriceAmount") for r in rows] == ["90,00", "75,325"]
    assert [text(r, "RowVatExcludedAmount") for r in rows] == ["180,00", "150,65"]
    payment = fin.find("EpiDetails/EpiPaymentInstructionDetails")
    assert text(payment, "EpiRemittanceInfoIdentifier") == invoice.reference
    assert payment.find("EpiRemittanceInfoIdentifier").get("IdentificationSchemeName") == "SPY"
    assert text(payment, "EpiInstructedAmount") == "410,01"
    assert text(payment, "EpiDateOptionDate") == "20240902"
    assert text(payment, "EpiPaymentMeansCode") == "58"
    beneficiary = fin.find("EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails")
    assert text(beneficiary, "EpiAccountID") == "FI2112345600000785"
    assert text(fin, "EpiDetails/EpiPartyDetails/EpiBfiPartyDetails/EpiBfiIdentifier") == "NDEAFIHH"

    # UBL: profile, endpoints, ids, payment, totals, lines.
    assert etree.QName(doc).localname == "Invoice"
    assert text(doc, "cbc:ProfileID") == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert text(doc, "cbc:DueDate") == "2024-09-02"
    supplier = doc.find("cac:AccountingSupplierParty/cac:Party", NS)
    customer = doc.find("cac:AccountingCustomerParty/cac:Party", NS)
    assert supplier.find("cbc:EndpointID", NS).attrib == {"schemeID": "0216"}
    assert text(supplier, "cbc:EndpointID") == "003724644919"
    assert customer.find("cbc:EndpointID", NS).get("schemeID") == "0216"
    assert text(customer, "cbc:EndpointID") == "003701120389"
    assert supplier.find("cac:PartyLegalEntity/cbc:CompanyID", NS).get("schemeID") == "0037"
    assert text(supplier, "cac:PartyLegalEntity/cbc:CompanyID") == "24644919"
    assert text(customer, "cac:PartyTaxScheme/cbc:CompanyID") == "FI01120389"
    assert text(doc, "cac:PaymentMeans/cbc:PaymentMeansCode") == "58"
    assert text(doc, "cac:PaymentMeans/cbc:PaymentID") == invoice.reference
    assert text(doc, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == "FI2112345600000785"
    assert texts(doc, "cac:TaxTotal/cbc:TaxAmount") == ["79.36"]
    assert text(doc, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == "410.01"
    assert text(doc, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "410.01"
    assert texts(doc, "cac:InvoiceLine/cbc:ID") == ["1", "2"]
    assert texts(doc, "cac:InvoiceLine/cac:Price/cbc:PriceAmount") == ["90.00", "75.325"]
    assert [
        e.get("unitCode") for e in doc.iterfind("cac:InvoiceLine/cbc:InvoicedQuantity", NS)
    ] == [
        "EA",
        "EA",
    ]
    assert texts(doc, "cac:InvoiceLine/cac:InvoicePeriod/cbc:StartDate") == [
        "2024-08-01",
        "2024-08-16",
    ]


def test_swedish_seller_to_a_finnish_business_is_reverse_charged(
    assert_finvoice_valid, assert_ubl_valid
):
    seller = seller_create("SE")
    tenant = buyer_create("FI", einvoice_address="003701120389", einvoice_operator=MAVENTA)
    invoice = invoice_issue(tenant=tenant, seller=seller, invoice_date=datetime.date(2024, 9, 2))
    assert (invoice.net, invoice.vat, invoice.total) == (Decimal("60.00"), 0, Decimal("60.00"))

    fin, doc = both_valid(invoice, assert_finvoice_valid, assert_ubl_valid)

    vat = fin.find("InvoiceDetails/VatSpecificationDetails")
    assert (text(vat, "VatCode"), text(vat, "VatRatePercent"), text(vat, "VatRateAmount")) == (
        "AE",
        "0",
        "0,00",
    )
    assert text(vat, "VatExemptionReasonCode") == "VATEX-EU-AE"
    assert "reverse charge" in text(vat, "VatFreeText").lower()
    assert "reverse charge" in text(fin, "InvoiceDetails/InvoiceFreeText").lower()
    assert texts(fin, "InvoiceRow/RowVatCode") == ["AE"]
    # Both VAT numbers are named; the Swedish OCR reference carries no Finnish scheme.
    assert text(fin, "SellerPartyDetails/SellerOrganisationTaxCode") == "SE556036079301"
    assert text(fin, "BuyerPartyDetails/BuyerOrganisationTaxCode") == "FI01120389"
    reference = fin.find("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
    assert (reference.text, reference.get("IdentificationSchemeName")) == (invoice.reference, None)

    category = doc.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    assert text(category, "cbc:ID") == "AE"
    assert text(category, "cbc:Percent") == "0"
    assert text(category, "cbc:TaxExemptionReasonCode") == "VATEX-EU-AE"
    assert text(doc, "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID") == "5560360793"
    assert text(doc, "cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID") == (
        "FI01120389"
    )
    assert "reverse charge" in text(doc, "cbc:Note").lower()


def test_finnish_seller_to_a_norwegian_business_is_outside_eu_vat(
    assert_finvoice_valid, assert_ubl_valid
):
    seller = seller_create("FI")
    tenant = buyer_create("NO", peppol_id="0192:923609016")
    invoice = invoice_issue(
        tenant=tenant, seller=seller, currency="NOK", invoice_date=datetime.date(2024, 9, 2)
    )
    # 2 seats × 340.00 NOK, no VAT.
    assert (invoice.net, invoice.vat, invoice.total) == (Decimal("680.00"), 0, Decimal("680.00"))

    fin, doc = both_valid(invoice, assert_finvoice_valid, assert_ubl_valid)

    vat = fin.find("InvoiceDetails/VatSpecificationDetails")
    assert (text(vat, "VatCode"), text(vat, "VatExemptionReasonCode")) == ("O", "VATEX-EU-O")
    assert text(vat, "VatFreeText") == "Outside the scope of EU VAT"
    # Outside the scope of VAT: no VAT numbers anywhere (EN 16931 BR-O-02).
    assert fin.find("SellerPartyDetails/SellerOrganisationTaxCode") is None
    assert fin.find("BuyerPartyDetails/BuyerOrganisationTaxCode") is None
    assert text(fin, "EpiDetails/EpiPaymentInstructionDetails/EpiPaymentMeansCode") == "30"

    assert doc.find(".//cac:PartyTaxScheme", NS) is None
    category = doc.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    assert text(category, "cbc:ID") == "O"
    assert category.find("cbc:Percent", NS) is None
    assert text(category, "cbc:TaxExemptionReasonCode") == "VATEX-EU-O"
    assert doc.find("cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", NS) is None
    customer = doc.find("cac:AccountingCustomerParty/cac:Party", NS)
    assert customer.find("cbc:EndpointID", NS).get("schemeID") == "0192"
    assert text(customer, "cac:PartyLegalEntity/cbc:CompanyID") == "923609016"
    assert text(doc, "cac:PaymentMeans/cbc:PaymentMeansCode") == "30"
    assert {e.get("currencyID") for e in doc.iter() if e.get("currencyID")} == {"NOK"}


@pytest.mark.parametrize(
    ("seats", "upgrade_to_seats", "gross", "rounding", "total"),
    [
        # 1 seat: 330.00 + 25 % 82.50 = 412.50 → 413 (rounded up by 0.50).
        (1, None, "412.50", "0.50", "413.00"),
        # 330.00 + one seat from 16 Aug 330.00 × 16/31 = 170.32: 500.32 + 125.08 = 625.40
        # → 625 (rounded down by 0.40).
        (1, 2, "625.40", "-0.40", "625.00"),
    ],
)
def test_sek_cash_rounding_keeps_the_totals_consistent(
    assert_finvoice_valid, assert_ubl_valid, seats, upgrade_to_seats, gross, rounding, total
):
    seller = seller_create("SE", cash_rounding=True)
    tenant = buyer_create("SE", peppol_id="0007:5567321707")
    invoice = invoice_issue(
        tenant=tenant,
        seller=seller,
        currency="SEK",
        seats=seats,
        upgrade_to_seats=upgrade_to_seats,
    )
    assert (invoice.rounding, invoice.total) == (Decimal(rounding), Decimal(total))

    fin, doc = both_valid(invoice, assert_finvoice_valid, assert_ubl_valid)

    comma = str.maketrans(".", ",")
    # Finvoice: BT-112 before rounding, the rounding apart, the amount to pay after it.
    assert text(fin, "InvoiceDetails/InvoiceTotalVatIncludedAmount") == gross.translate(comma)
    assert text(fin, "InvoiceDetails/InvoiceTotalRoundoffAmount") == rounding.translate(comma)
    assert text(fin, "EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount") == (
        total.translate(comma)
    )
    # UBL: BR-CO-16, PayableAmount = TaxInclusiveAmount + PayableRoundingAmount.
    totals = doc.find("cac:LegalMonetaryTotal", NS)
    assert text(totals, "cbc:TaxInclusiveAmount") == gross
    assert text(totals, "cbc:PayableRoundingAmount") == rounding
    assert text(totals, "cbc:PayableAmount") == total
    assert text(doc, "cac:PaymentMeans/cbc:PaymentMeansCode") == "30"


def test_two_finnish_vat_rates_on_one_invoice(assert_finvoice_valid, assert_ubl_valid):
    """The engine decides one rate per invoice date; an invoice made of lines on both sides
    of the change of 2024-09-01 (24 % → 25.5 %) is built directly."""
    seller = seller_create("FI")
    tenant = buyer_create("FI", einvoice_address="003701120389", einvoice_operator=MAVENTA)

    def line(start, end, rate, net):
        return {
            "description": "Professional, seats",
            "period_start": start,
            "period_end": end,
            "quantity": Decimal(2),
            "unit_price": Decimal("30.00"),
            "vat_category": "S",
            "vat_rate": Decimal(rate),
            "net": Decimal(net),
        }

    invoice = invoice_with_lines(
        tenant=tenant,
        seller=seller,
        lines=[
            line(datetime.date(2024, 8, 1), datetime.date(2024, 8, 31), "24", "60.00"),
            line(datetime.date(2024, 9, 1), datetime.date(2024, 9, 30), "25.5", "60.00"),
            line(datetime.date(2024, 9, 16), datetime.date(2024, 9, 30), "25.5", "15.00"),
        ],
    )
    # 24 % of 60.00 = 14.40; 25.5 % of 75.00 = 19.125 → 19.13; total 135.00 + 33.53.
    assert (invoice.net, invoice.vat, invoice.total) == (
        Decimal("135.00"),
        Decimal("33.53"),
        Decimal("168.53"),
    )

    fin, doc = both_valid(invoice, assert_finvoice_valid, assert_ubl_valid)

    groups = fin.findall("InvoiceDetails/VatSpecificationDetails")
    assert [
        (text(g, "VatRatePercent"), text(g, "VatBaseAmount"), text(g, "VatRateAmount"))
        for g in groups
    ] == [("24", "60,00", "14,40"), ("25,5", "75,00", "19,13")]
    assert texts(fin, "InvoiceRow/RowVatRatePercent") == ["24", "25,5", "25,5"]
    subtotals = doc.findall("cac:TaxTotal/cac:TaxSubtotal", NS)
    assert [
        (
            text(s, "cac:TaxCategory/cbc:Percent"),
            text(s, "cbc:TaxableAmount"),
            text(s, "cbc:TaxAmount"),
        )
        for s in subtotals
    ] == [("24", "60.00", "14.40"), ("25.5", "75.00", "19.13")]
    assert texts(doc, "cac:TaxTotal/cbc:TaxAmount") == ["33.53"]
    assert texts(doc, "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:Percent") == [
        "24",
        "25.5",
        "25.5",
    ]


def test_zero_rated_and_exempt_lines_beside_standard_rated_ones(
    assert_finvoice_valid, assert_ubl_valid
):
    """Categories Z and E are not decided by the engine today; where an invoice carries them
    (e.g. one built by hand), E has its exemption reason and Z has none (BR-Z-10)."""
    seller = seller_create("FI")
    tenant = buyer_create("FI", einvoice_address="003701120389", einvoice_operator=MAVENTA)

    def line(category, rate, net):
        return {
            "description": f"Line in category {category}",
            "period_start": datetime.date(2024, 9, 1),
            "period_end": datetime.date(2024, 9, 30),
            "quantity": Decimal(1),
            "unit_price": Decimal(net),
            "vat_category": category,
            "vat_rate": Decimal(rate),
            "net": Decimal(net),
        }

    invoice = invoice_with_lines(
        tenant=tenant,
        seller=seller,
        lines=[line("S", "25.5", "100.00"), line("Z", "0", "40.00"), line("E", "0", "10.00")],
    )
    assert (invoice.net, invoice.vat, invoice.total) == (
        Decimal("150.00"),
        Decimal("25.50"),
        Decimal("175.50"),
    )

    fin, doc = both_valid(invoice, assert_finvoice_valid, assert_ubl_valid)

    groups = {text(g, "VatCode"): g for g in fin.findall("InvoiceDetails/VatSpecificationDetails")}
    assert sorted(groups) == ["E", "S", "Z"]
    assert text(groups["E"], "VatFreeText") == "Exempt from VAT"
    assert groups["Z"].find("VatFreeText") is None
    categories = {
        text(c, "cbc:ID"): c
        for c in doc.iterfind("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    }
    assert text(categories["E"], "cbc:TaxExemptionReason") == "Exempt from VAT"
    assert categories["Z"].find("cbc:TaxExemptionReason", NS) is None
    assert text(categories["Z"], "cbc:Percent") == "0"


def test_a_credit_note_for_part_of_an_invoice(assert_finvoice_valid, assert_ubl_valid):
    seller = seller_create("FI")
    tenant = buyer_create(
        "FI",
        einvoice_address="003701120389",
        einvoice_operator=MAVENTA,
        peppol_id="0216:003701120389",
    )
    # 3 seats × 30.00 = 90.00 at 24 % (2024-08-05): 111.60.
    invoice = invoice_issue(
        tenant=tenant, seller=seller, seats=3, invoice_date=datetime.date(2024, 8, 5)
    )
    with clock.frozen(datetime.date(2024, 8, 7)):
        note = credit_note_issue(
            invoice=invoice, lines={invoice.lines.get().pk: Decimal("30.00")}, actor=None
        )
    assert (note.net, note.vat, note.total) == (
        Decimal("-30.00"),
        Decimal("-7.20"),
        Decimal("-37.20"),
    )

    fin, doc = both_valid(note, assert_finvoice_valid, assert_ubl_valid)

    # Finvoice: INV02 with the stored negative amounts and the invoice it credits.
    details = fin.find("InvoiceDetails")
    assert (text(details, "InvoiceTypeCode"), text(details, "InvoiceTypeCodeUN")) == (
        "INV02",
        "381",
    )
    assert text(details, "OriginalInvoiceNumber") == invoice.display_number
    assert text(details, "OriginalInvoiceDate") == "20240805"
    assert text(details, "InvoiceTotalVatIncludedAmount") == "-37,20"
    assert texts(fin, "InvoiceRow/InvoicedQuantity") == ["-1"]
    assert texts(fin, "InvoiceRow/UnitPriceAmount") == ["30,00"]
    assert text(fin, "EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount") == "-37,20"

    # UBL: a CreditNote with positive amounts that references the invoice.
    assert etree.QName(doc).localname == "CreditNote"
    assert text(doc, "cbc:CreditNoteTypeCode") == "381"
    assert text(doc, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == (
        invoice.display_number
    )
    assert text(doc, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate") == (
        "2024-08-05"
    )
    assert texts(doc, "cac:CreditNoteLine/cbc:CreditedQuantity") == ["1"]
    assert texts(doc, "cac:CreditNoteLine/cbc:LineExtensionAmount") == ["30.00"]
    assert texts(doc, "cac:CreditNoteLine/cac:Price/cbc:PriceAmount") == ["30.00"]
    assert texts(doc, "cac:TaxTotal/cbc:TaxAmount") == ["7.20"]
    assert text(doc, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "37.20"
    assert doc.find("cac:PaymentMeans", NS) is None


def test_a_whole_credit_note_of_a_cash_rounded_invoice(assert_finvoice_valid, assert_ubl_valid):
    seller = seller_create("SE", cash_rounding=True)
    tenant = buyer_create("SE")
    invoice = invoice_issue(tenant=tenant, seller=seller, currency="SEK", seats=1)
    with clock.frozen(datetime.date(2024, 8, 20)):
        note = credit_note_issue(invoice=invoice, lines=None, actor=None)
    # −412.50 → −413 (the rounding mirrors the invoice's +0.50).
    assert (note.rounding, note.total) == (Decimal("-0.50"), Decimal("-413.00"))

    fin, doc = both_valid(note, assert_finvoice_valid, assert_ubl_valid)

    assert text(fin, "InvoiceDetails/InvoiceTotalRoundoffAmount") == "-0,50"
    assert text(doc, "cac:LegalMonetaryTotal/cbc:PayableRoundingAmount") == "0.50"
    assert text(doc, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "413.00"


def test_names_and_addresses_with_special_characters(assert_finvoice_valid, assert_ubl_valid):
    seller_name = 'Severa "Suomi" & <Åland> Öy'
    buyer_name = "Åkesson & Öhman <Ääni> Oy"
    street = "Köydenpunojankatu 2 <B> & C"
    city = "Łódź-Ä"  # Ł and ź are outside ISO-8859-15: written as character references
    seller = seller_create("FI", name=seller_name)
    tenant = buyer_create(
        "FI",
        name=buyer_name,
        address=(street, "00180", city),
        einvoice_address="003701120389",
        einvoice_operator=MAVENTA,
    )
    invoice = invoice_issue(tenant=tenant, seller=seller)
    finvoice_xml, ubl_xml = invoice_finvoice(invoice), invoice_ubl(invoice)

    assert finvoice_xml.startswith(b"<?xml version='1.0' encoding='ISO-8859-15'?>")
    assert b"&amp;" in finvoice_xml and b"&lt;" in finvoice_xml
    assert "Åkesson".encode("iso-8859-15") in finvoice_xml
    assert b"&#321;" in finvoice_xml  # Ł
    fin, doc = both_valid(invoice, assert_finvoice_valid, assert_ubl_valid)
    assert text(fin, "BuyerPartyDetails/BuyerOrganisationName") == buyer_name
    assert text(fin, "BuyerPartyDetails/BuyerPostalAddressDetails/BuyerStreetName") == street
    assert text(fin, "BuyerPartyDetails/BuyerPostalAddressDetails/BuyerTownName") == city
    assert text(fin, "SellerPartyDetails/SellerOrganisationName") == seller_name
    assert b"&amp;" in ubl_xml
    assert text(doc, "cac:AccountingCustomerParty/cac:Party/cac:PartyName/cbc:Name") == buyer_name
    assert text(doc, "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cbc:StreetName") == (
        street
    )
    assert text(doc, "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cbc:CityName") == (
        city
    )


@pytest.mark.parametrize(
    ("country", "peppol_id", "scheme", "identifier"),
    [
        ("FI", "0216:003701120389", "0216", "003701120389"),  # Finnish OVT code
        ("SE", "0007:5567321707", "0007", "5567321707"),  # Swedish organisation number
        ("NO", "0192:923609016", "0192", "923609016"),  # Norwegian organisation number
        ("DK", "0184:10150817", "0184", "10150817"),  # Danish CVR
        ("FI", "0088:7350053850019", "0088", "7350053850019"),  # GLN
        # Without a Peppol id (a download for import): from the business id.
        ("FI", "", "0216", "003701120389"),
        ("SE", "", "0007", "5567321707"),
    ],
)
def test_buyer_endpoint_ids_use_the_peppol_eas_schemes(
    assert_ubl_valid, country, peppol_id, scheme, identifier
):
    seller = seller_create("FI")
    tenant = buyer_create(country, peppol_id=peppol_id)
    currency = {"FI": "EUR", "SE": "SEK", "NO": "NOK", "DK": "DKK"}[country]
    invoice = invoice_issue(tenant=tenant, seller=seller, currency=currency)
    xml = invoice_ubl(invoice)
    assert_ubl_valid(xml)
    endpoint = ubl(xml).find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS)
    assert (endpoint.get("schemeID"), endpoint.text) == (scheme, identifier)


@pytest.mark.parametrize(
    ("country", "currency", "scheme", "identifier", "legal_scheme", "payment_means"),
    [
        ("FI", "EUR", "0216", "003724644919", "0037", "58"),
        ("SE", "SEK", "0007", "5560360793", "0007", "30"),
        ("NO", "NOK", "0192", "974760673", "0192", "30"),
        # Between Danish parties: 42, payment to a bank account (DK-R-005).
        ("DK", "DKK", "0184", "13585628", "0184", "42"),
    ],
)
def test_domestic_invoices_of_each_seller_country(
    assert_finvoice_valid,
    assert_ubl_valid,
    country,
    currency,
    scheme,
    identifier,
    legal_scheme,
    payment_means,
):
    seller = seller_create(country, cash_rounding=True)
    tenant = buyer_create(country)
    invoice = invoice_issue(
        tenant=tenant, seller=seller, currency=currency, seats=3, upgrade_to_seats=5
    )
    assert {line.vat_category for line in invoice.lines.all()} == {"S"}

    fin, doc = both_valid(invoice, assert_finvoice_valid, assert_ubl_valid)

    supplier = doc.find("cac:AccountingSupplierParty/cac:Party", NS)
    endpoint = supplier.find("cbc:EndpointID", NS)
    assert (endpoint.get("schemeID"), endpoint.text) == (scheme, identifier)
    assert supplier.find("cac:PartyLegalEntity/cbc:CompanyID", NS).get("schemeID") == legal_scheme
    assert text(doc, "cac:PaymentMeans/cbc:PaymentMeansCode") == payment_means
    assert fin.find("SellerPartyDetails/SellerPartyIdentifier").get("SchemeID") == legal_scheme
    if country == "NO":
        # Norwegian limited companies state their registration (NO-R-002).
        assert "Foretaksregisteret" in texts(supplier, "cac:PartyTaxScheme/cbc:CompanyID")


def test_documents_are_the_stored_invoice_not_todays_details(
    assert_finvoice_valid, assert_ubl_valid
):
    seller = seller_create("FI")
    tenant = buyer_create("FI", einvoice_address="003701120389", einvoice_operator=MAVENTA)
    invoice = invoice_issue(tenant=tenant, seller=seller)
    first = invoice_finvoice(invoice), invoice_ubl(invoice)

    # The buyer moves and changes operator, the seller renames itself: issued documents
    # keep what was frozen on the invoice.
    BillingDetails.objects.filter(tenant=tenant).update(
        street_address="Uusi katu 1", einvoice_operator="NDEAFIHH"
    )
    seller.name = "Renamed Oy"
    seller.save()
    invoice.refresh_from_db()

    assert (invoice_finvoice(invoice), invoice_ubl(invoice)) == first
    assert b"Renamed" not in first[0] + first[1]


def test_finvoice_with_its_soap_routing_frame(assert_finvoice_valid):
    seller = seller_create("FI")
    tenant = buyer_create("FI", einvoice_address="FI2112345600000785", einvoice_operator="NDEAFIHH")
    invoice = invoice_issue(tenant=tenant, seller=seller)

    envelope = finvoice_soap_envelope(invoice)
    combined = invoice_finvoice_with_envelope(invoice)

    assert combined == envelope + invoice_finvoice(invoice)
    assert_finvoice_valid(combined)
    frame = etree.fromstring(split_soap_frame(combined)[0])
    eb = "{http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd}"
    parties = [
        (party.tag.removeprefix(eb), party.findtext(eb + "Role"), party.findtext(eb + "PartyId"))
        for party in frame.iter(eb + "From", eb + "To")
    ]
    assert parties == [
        ("From", "Sender", "003724644919"),
        ("From", "Intermediator", "NDEAFIHH"),
        ("To", "Receiver", "FI2112345600000785"),
        ("To", "Intermediator", "NDEAFIHH"),
    ]
    assert frame.findtext(f".//{eb}MessageId") == f"{invoice.display_number}-{invoice.pk}"
    assert frame.findtext(f".//{eb}Service") == "Routing"
    assert frame.findtext(f".//{eb}Action") == "ProcessInvoice"


def test_no_soap_frame_without_an_einvoice_address(einvoice_artefacts):
    invoice = invoice_issue(tenant=buyer_create("FI"), seller=seller_create("FI"))
    with pytest.raises(ValueError, match="no eInvoice address"):
        finvoice_soap_envelope(invoice)
    # The message itself is still made (a download), without routing details.
    assert finvoice(invoice_finvoice(invoice)).find("MessageTransmissionDetails") is None


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        ({"einvoice_address": "003701120389", "einvoice_operator": MAVENTA}, FORMAT_FINVOICE),
        (
            {
                "einvoice_address": "003701120389",
                "einvoice_operator": MAVENTA,
                "peppol_id": "0216:003701120389",
            },
            FORMAT_FINVOICE,
        ),
        ({"peppol_id": "0007:5567321707"}, FORMAT_PEPPOL),
        ({"einvoice_address": "003701120389"}, None),  # no operator to route through
        ({}, None),
    ],
)
def test_the_delivery_format_follows_the_buyers_frozen_details(details, expected):
    tenant = buyer_create("FI", **details)
    invoice = invoice_issue(tenant=tenant, seller=seller_create("FI"))
    assert einvoice_format(invoice) == expected


def test_a_bare_invoice_still_downloads(einvoice_artefacts, tenant):
    """An invoice whose snapshots hold only names (e.g. imported) gives documents all the
    same; validation names what is missing rather than the download failing."""
    invoice = invoice_create(tenant)
    finvoice_xml, ubl_xml = invoice_finvoice(invoice), invoice_ubl(invoice)
    errors = finvoice_errors(finvoice_xml)
    assert any("EpiAccountID" in error for error in errors)
    assert etree.QName(ubl(ubl_xml)).localname == "Invoice"
