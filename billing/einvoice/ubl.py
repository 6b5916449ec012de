"""Peppol BIS Billing 3.0: an issued invoice as a UBL 2.1 Invoice, a credit note as a UBL 2.1
CreditNote (DESIGN §3.6), for buyers with a Peppol participant id.

What the Peppol and EN 16931 rules need, and where it comes from:

- CustomizationID / ProfileID of Peppol BIS Billing 3.0 (profile 01, billing);
- a buyer reference (PEPPOL-EN16931-R003): the seller's customer number of the buyer;
- electronic addresses (R010, R020) with an EAS scheme (``schemes.endpoint``): the buyer's
  Peppol id, else derived from its eInvoice address or ids; the seller's from its ids
  (0216 OVT for Finland, 0007 / 0192 / 0184 for Sweden, Norway, Denmark);
- the legal-entity id with its ICD (0037 for a Finnish business id), the VAT numbers in
  ``PartyTaxScheme`` (none at all for a sale outside the scope of VAT, BR-O-02);
- VAT per category and rate (S with its rate; AE and O with a VATEX code and the invoice's
  note; O without a rate, BR-O-05), computed on each group's summed net;
- the line period (within the document's invoice period, R110/R111), the quantity in
  UN/ECE Rec. 20 "EA" and the net unit price net / quantity (R120, see
  ``reading.line_quantity_and_price``);
- payment means 58 (SEPA credit transfer) for euro and 30 (credit transfer) otherwise, 42
  between Danish parties (DK-R-005), with the IBAN, BIC and payment reference (PaymentID);
- cash rounding as ``PayableRoundingAmount`` so that BR-CO-16 holds:
  PayableAmount = TaxInclusiveAmount − PrepaidAmount + PayableRoundingAmount;
- a credit note's ``BillingReference`` to the invoice it credits, and its amounts positive
  (the system stores a credit note's nets negative; ``_sign`` flips them).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from lxml import etree

from billing.einvoice.reading import (
    CATEGORIES_WITHOUT_RATE,
    EinvoiceDocument,
    Line,
    Party,
    decimal_text,
    einvoice_read,
    line_quantity_and_price,
)
from billing.einvoice.schemes import endpoint, legal_id, vat_with_prefix
from billing.models import Invoice

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = f"{{{NS_CAC}}}"
CBC = f"{{{NS_CBC}}}"

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
TYPE_INVOICE = "380"
TYPE_CREDIT_NOTE = "381"
PAYMENT_MEANS_SEPA = "58"
PAYMENT_MEANS_CREDIT_TRANSFER = "30"
PAYMENT_MEANS_BANK_ACCOUNT = "42"
UNIT_CODE = "EA"
# UBL prices have no decimal limit; enough to hold any quantity × price to the cent.
UNIT_PRICE_DECIMALS = 10
# Norwegian limited companies state their registration (foretaksregisterloven § 10-2),
# as the seller's tax registration (BT-32; Peppol NO-R-002).
NORWEGIAN_REGISTRATION = "Foretaksregisteret"


def invoice_ubl(invoice: Invoice) -> bytes:
    """The issued invoice (UBL Invoice) or credit note (UBL CreditNote) as UTF-8 bytes."""
    root = ubl_build(einvoice_read(invoice))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def ubl_build(document: EinvoiceDocument) -> etree._Element:
    is_credit_note = document.is_credit_note
    namespace = NS_CREDIT_NOTE if is_credit_note else NS_INVOICE
    root = etree.Element(
        f"{{{namespace}}}{'CreditNote' if is_credit_note else 'Invoice'}",
        nsmap={None: namespace, "cac": NS_CAC, "cbc": NS_CBC},
    )
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", document.number)
    _cbc(root, "IssueDate", _date(document.issue_date))
    if is_credit_note:
        _cbc(root, "CreditNoteTypeCode", TYPE_CREDIT_NOTE)
    else:
        _cbc(root, "DueDate", _date(document.due_date))
        _cbc(root, "InvoiceTypeCode", TYPE_INVOICE)
    note = "; ".join(
        text
        for text in (
            f"Credit note for invoice {document.credited_number}"
            if document.credited_number
            else "",
            document.vat_note,
        )
        if text
    )
    if note:
        _cbc(root, "Note", note)  # one note at most (PEPPOL-EN16931-R002)
    _cbc(root, "DocumentCurrencyCode", document.currency)
    _cbc(root, "BuyerReference", document.customer_number)
    if document.period_start and document.period_end:
        _period(root, document.period_start, document.period_end)
    if document.credited_number:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", document.credited_number)
        if document.credited_date:
            _cbc(reference, "IssueDate", _date(document.credited_date))
    _party(_cac(root, "AccountingSupplierParty"), document, document.seller, is_seller=True)
    _party(_cac(root, "AccountingCustomerParty"), document, document.buyer, is_seller=False)
    if not is_credit_note:
        _payment(root, document)
    _tax_total(root, document)
    _monetary_total(root, document)
    for line in document.lines:
        _line(root, document, line)
    return root


def _sign(document: EinvoiceDocument) -> int:
    """A UBL credit note states positive amounts for what the stored note holds negative."""
    return -1 if document.is_credit_note else 1


def _party(parent: etree._Element, document: EinvoiceDocument, party: Party, *, is_seller: bool):
    element = _cac(parent, "Party")
    address = endpoint(
        country=party.country,
        business_id=party.business_id,
        vat_number=party.vat_number,
        peppol_id=party.peppol_id,
        einvoice_address=party.einvoice_address,
    )
    if address is not None:
        _cbc(element, "EndpointID", address[1], schemeID=address[0])
    if party.name:
        _cbc(_cac(element, "PartyName"), "Name", party.name)
    postal = _cac(element, "PostalAddress")
    if party.street_address:
        _cbc(postal, "StreetName", party.street_address)
    if party.city:
        _cbc(postal, "CityName", party.city)
    if party.postal_code:
        _cbc(postal, "PostalZone", party.postal_code)
    if party.address_country:
        _cbc(_cac(postal, "Country"), "IdentificationCode", party.address_country)
    if len(postal) == 0:
        element.remove(postal)  # no empty elements (PEPPOL-EN16931-R008)
    if party.vat_number and not document.is_outside_scope:
        scheme = _cac(element, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", vat_with_prefix(party.country, party.vat_number))
        _cbc(_cac(scheme, "TaxScheme"), "ID", "VAT")
    if is_seller and party.country == "NO":
        scheme = _cac(element, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", NORWEGIAN_REGISTRATION)
        _cbc(_cac(scheme, "TaxScheme"), "ID", "TAX")
    legal = _cac(element, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.name or "-")
    registration = legal_id(party.country, party.business_id)
    if registration is not None:
        scheme_id, value = registration
        if scheme_id:
            _cbc(legal, "CompanyID", value, schemeID=scheme_id)
        else:
            _cbc(legal, "CompanyID", value)


def _payment(root: etree._Element, document: EinvoiceDocument) -> None:
    if document.iban:
        _payment_means(root, document)
    if document.payment_terms_days is not None:
        _cbc(
            _cac(root, "PaymentTerms"),
            "Note",
            f"{document.payment_terms_days} days net, due {_date(document.due_date)}",
        )


def _payment_means(root: etree._Element, document: EinvoiceDocument) -> None:
    if document.currency == "EUR":
        code = PAYMENT_MEANS_SEPA
    elif document.seller.address_country == "DK" and document.buyer.address_country == "DK":
        code = PAYMENT_MEANS_BANK_ACCOUNT
    else:
        code = PAYMENT_MEANS_CREDIT_TRANSFER
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", code)
    if document.reference:
        _cbc(means, "PaymentID", document.reference)
    account = _cac(means, "PayeeFinancialAccount")
    _cbc(account, "ID", document.iban)
    if document.seller.name:
        _cbc(account, "Name", document.seller.name)
    if document.bic:
        _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", document.bic)


def _tax_category(parent: etree._Element, tag: str, category: str, rate: Decimal):
    element = _cac(parent, tag)
    _cbc(element, "ID", category)
    if category not in CATEGORIES_WITHOUT_RATE:
        _cbc(element, "Percent", decimal_text(rate))
    return element


def _tax_total(root: etree._Element, document: EinvoiceDocument) -> None:
    sign = _sign(document)
    currency = document.currency
    total = _cac(root, "TaxTotal")
    _amount(total, "TaxAmount", sign * document.vat, currency)
    for group in document.vat_groups:
        subtotal = _cac(total, "TaxSubtotal")
        _amount(subtotal, "TaxableAmount", sign * group.taxable, currency)
        _amount(subtotal, "TaxAmount", sign * group.vat, currency)
        category = _tax_category(subtotal, "TaxCategory", group.category, group.rate)
        reason_code, reason_text = document.exemption_reason(group.category)
        if reason_code:
            _cbc(category, "TaxExemptionReasonCode", reason_code)
        if reason_text:
            _cbc(category, "TaxExemptionReason", reason_text)
        _cbc(_cac(category, "TaxScheme"), "ID", "VAT")


def _monetary_total(root: etree._Element, document: EinvoiceDocument) -> None:
    sign = _sign(document)
    currency = document.currency
    total = _cac(root, "LegalMonetaryTotal")
    _amount(total, "LineExtensionAmount", sign * document.lines_net, currency)
    _amount(total, "TaxExclusiveAmount", sign * document.net, currency)
    _amount(total, "TaxInclusiveAmount", sign * document.gross, currency)
    if document.rounding:
        _amount(total, "PayableRoundingAmount", sign * document.rounding, currency)
    _amount(total, "PayableAmount", sign * document.total, currency)


def _line(root: etree._Element, document: EinvoiceDocument, line: Line) -> None:
    sign = _sign(document)
    is_credit_note = document.is_credit_note
    quantity, price = line_quantity_and_price(
        sign * line.net, sign * line.quantity, max_decimals=UNIT_PRICE_DECIMALS
    )
    element = _cac(root, "CreditNoteLine" if is_credit_note else "InvoiceLine")
    _cbc(element, "ID", str(line.position))
    if line.order_number:
        _cbc(element, "Note", f"Order {line.order_number}")
    _cbc(
        element,
        "CreditedQuantity" if is_credit_note else "InvoicedQuantity",
        decimal_text(quantity),
        unitCode=UNIT_CODE,
    )
    _amount(element, "LineExtensionAmount", sign * line.net, document.currency)
    _period(element, line.period_start, line.period_end)
    item = _cac(element, "Item")
    _cbc(item, "Name", line.description or "-")
    category = _tax_category(item, "ClassifiedTaxCategory", line.vat_category, line.vat_rate)
    _cbc(_cac(category, "TaxScheme"), "ID", "VAT")
    _amount(_cac(element, "Price"), "PriceAmount", price, document.currency)


# Writing values.


def _cac(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, CAC + name)


def _cbc(parent: etree._Element, name: str, text: str, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, CBC + name)
    element.text = text
    for key, value in attributes.items():
        element.set(key, value)
    return element


def _amount(parent: etree._Element, name: str, amount: Decimal, currency: str) -> None:
    # Amounts have two decimals at most (BR-DEC-*); a unit price keeps what it needs.
    value = Decimal(amount)
    text = f"{value:.2f}" if name != "PriceAmount" else _price_text(value)
    _cbc(parent, name, text, currencyID=currency)


def _price_text(price: Decimal) -> str:
    return f"{price:.{max(2, -price.as_tuple().exponent)}f}"


def _period(parent: etree._Element, start: datetime.date, end: datetime.date) -> None:
    period = _cac(parent, "InvoicePeriod")
    _cbc(period, "StartDate", _date(start))
    _cbc(period, "EndDate", _date(end))


def _date(day: datetime.date) -> str:
    return day.isoformat()
