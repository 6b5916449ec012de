"""The validators themselves: they accept the official examples and reject broken documents
(a validator that accepts everything would make every other e-invoice test pass)."""

import datetime
from decimal import Decimal

import pytest
from lxml import etree

from billing.einvoice import invoice_finvoice, invoice_ubl
from billing.einvoice.validation import (
    ArtefactsMissing,
    artefacts_dir,
    finvoice_errors,
    finvoice_rule_errors,
    finvoice_schema_errors,
    split_soap_frame,
    ubl_errors,
    ubl_report,
)
from tests.billing.einvoice.builders import buyer_create, invoice_issue, seller_create

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def _examples(einvoice_artefacts, folder: str, pattern: str = "*.xml") -> list:
    found = sorted((einvoice_artefacts / folder).rglob(pattern))
    assert found, f"no examples in {folder}"
    return found


# The official examples pass.


def test_the_official_peppol_examples_have_no_fatal_error(einvoice_artefacts):
    for example in _examples(einvoice_artefacts, "peppol-bis3/examples"):
        fatal, _warnings = ubl_errors(example.read_bytes())
        assert fatal == [], example.name


def test_the_official_cen_examples_pass_the_xsd_and_the_en16931_rules(einvoice_artefacts):
    # They are EN 16931 examples, not Peppol documents: Peppol's own rules (R001, R003…)
    # reject them by design, so only the XSD and the CEN layer are asserted.
    examples = _examples(einvoice_artefacts, "en16931/ubl/examples", "*.[xX][mM][lL]")
    for example in examples:
        if "negativ" in example.name:
            continue
        report = ubl_report(example.read_bytes())
        assert report.xsd_errors == [], example.name
        assert report.fatal_ids("EN16931") == set(), example.name


def test_the_official_finvoice_examples_pass_the_xsd(einvoice_artefacts):
    for example in _examples(einvoice_artefacts, "finvoice3/examples"):
        frame, body = split_soap_frame(example.read_bytes())
        root = etree.fromstring(body)
        assert finvoice_schema_errors(root) == [], example.name
        # Their sums are right; only their placeholders fail our own checks: the literal
        # "EpiAccountID" as IBAN, business id 1234567-8, and a discount and a charge in NOK
        # on an invoice in EUR.
        kinds = {error.split(":")[0] for error in finvoice_rule_errors(root)}
        placeholders = {"iban", "business-id", "vat-number", "einvoice-address", "currency"}
        assert kinds <= placeholders, example.name
        assert "iban" in kinds


def test_a_missing_artefacts_folder_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("SEVERA_EINVOICE_ARTEFACTS", str(tmp_path))
    with pytest.raises(ArtefactsMissing, match=str(tmp_path)):
        artefacts_dir()


# Broken documents are rejected.


@pytest.fixture
def invoice(db, unscoped):
    seller = seller_create("SE", cash_rounding=True)
    tenant = buyer_create("SE")
    return invoice_issue(tenant=tenant, seller=seller, currency="SEK", seats=1)


def _ubl_changed(xml: bytes, path: str, change) -> bytes:
    root = etree.fromstring(xml)
    element = root.find(path, NS)
    change(element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_ubl_with_a_wrong_payable_amount_is_rejected(einvoice_artefacts, invoice):
    xml = invoice_ubl(invoice)
    assert ubl_errors(xml)[0] == []

    def add_one(element):
        element.text = str(Decimal(element.text) + 1)

    broken = _ubl_changed(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount", add_one)

    report = ubl_report(broken)
    assert report.xsd_errors == []  # the XSD cannot see it
    assert report.fatal_ids() == {"BR-CO-16"}
    assert any("BR-CO-16" in error for error in ubl_errors(broken)[0])


def test_ubl_rounding_not_carried_into_the_payable_amount_is_rejected(einvoice_artefacts, invoice):
    def drop(element):
        element.getparent().remove(element)

    broken = _ubl_changed(
        invoice_ubl(invoice), "cac:LegalMonetaryTotal/cbc:PayableRoundingAmount", drop
    )
    assert ubl_report(broken).fatal_ids() == {"BR-CO-16"}


def test_ubl_with_an_element_out_of_order_fails_the_xsd(einvoice_artefacts, invoice):
    def move_to_end(element):
        element.getparent().append(element)

    broken = _ubl_changed(invoice_ubl(invoice), "cbc:IssueDate", move_to_end)
    assert ubl_report(broken).xsd_errors != []


def _finvoice_changed(xml: bytes, path: str, value: str) -> bytes:
    root = etree.fromstring(xml)
    root.find(path).text = value
    return etree.tostring(root, xml_declaration=True, encoding="ISO-8859-15")


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        # 413,00 is due: the rounding must be carried into the amount to pay.
        ("EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount", "412,50", "amount-due"),
        ("InvoiceDetails/InvoiceTotalVatIncludedAmount", "413,00", "total-gross"),
        ("InvoiceDetails/VatSpecificationDetails/VatRateAmount", "82,00", "vat-amount"),
        ("InvoiceRow/RowVatExcludedAmount", "331,00", "rows-total"),
        (
            "EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiAccountID",
            "SE45500000000583982574",
            "iban",
        ),
        ("EpiDetails/EpiPartyDetails/EpiBfiPartyDetails/EpiBfiIdentifier", "ESSEXXSS", "bic"),
        (
            "EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier",
            "100000018",
            "reference",
        ),
        ("EpiDetails/EpiPaymentInstructionDetails/EpiDateOptionDate", "20240903", "due-date"),
        ("BuyerPartyDetails/BuyerPartyIdentifier", "5567321708", "business-id"),
        ("SellerPartyDetails/SellerOrganisationTaxCode", "SE556036079302", "vat-number"),
    ],
)
def test_finvoice_our_own_checks_reject_wrong_sums_and_identifiers(
    einvoice_artefacts, invoice, path, value, expected
):
    xml = invoice_finvoice(invoice)
    assert finvoice_errors(xml) == []

    errors = finvoice_errors(_finvoice_changed(xml, path, value))

    assert errors, path
    assert expected in {error.split(":")[0] for error in errors}, errors


def test_finvoice_with_a_decimal_point_fails_the_xsd(einvoice_artefacts, invoice):
    broken = _finvoice_changed(
        invoice_finvoice(invoice), "InvoiceDetails/InvoiceTotalVatIncludedAmount", "412.50"
    )
    errors = finvoice_errors(broken)
    assert any(
        error.startswith("XSD") and "InvoiceTotalVatIncludedAmount" in error for error in errors
    )


def test_finvoice_with_an_unknown_operator_in_its_routing_is_rejected(
    einvoice_artefacts, db, unscoped
):
    tenant = buyer_create("FI", einvoice_address="003701120389", einvoice_operator="003721291126")
    invoice = invoice_issue(
        tenant=tenant, seller=seller_create("FI"), invoice_date=datetime.date(2024, 8, 19)
    )
    broken = _finvoice_changed(
        invoice_finvoice(invoice),
        "MessageTransmissionDetails/MessageReceiverDetails/ToIntermediator",
        "003799999999",
    )
    assert any(error.startswith("einvoice-operator") for error in finvoice_errors(broken))


def test_a_warning_is_reported_but_not_fatal(einvoice_artefacts, db, unscoped):
    """A Norwegian seller that does not state "Foretaksregisteret" gets Peppol's warning
    NO-R-002: reported, and the document is still deliverable."""
    seller = seller_create("NO")
    invoice = invoice_issue(tenant=buyer_create("NO"), seller=seller, currency="NOK")
    root = etree.fromstring(invoice_ubl(invoice))
    for scheme in root.iterfind(".//cac:AccountingSupplierParty//cac:PartyTaxScheme", NS):
        if scheme.findtext("cac:TaxScheme/cbc:ID", namespaces=NS) == "TAX":
            scheme.getparent().remove(scheme)

    fatal, warnings = ubl_errors(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    assert fatal == []
    assert len(warnings) == 1
    assert "[NO-R-002]" in warnings[0]
