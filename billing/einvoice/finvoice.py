"""Finvoice 3.0 (Finanssiala, schema of 17.12.2020): the Finnish e-invoice for buyers with
an eInvoice address and operator (DESIGN §3.6).

``invoice_finvoice(invoice)`` writes the ``<Finvoice Version="3.0">`` message, encoded
ISO-8859-15 as the guideline asks (characters outside it become character references).
With the buyer's eInvoice address and operator it starts with ``MessageTransmissionDetails``
(the in-message routing operators read); ``finvoice_soap_envelope`` writes the SOAP 1.1 /
ebXML routing frame that the bank channel puts in front of the message instead, and
``invoice_finvoice_with_envelope`` joins the two as one file, as operators exchange them.

Mapping to EN 16931, as Finvoice 3.0 defines it (and Peppol BIS, for the same invoice):

- ``InvoiceTotalVatExcludedAmount`` BT-109, ``InvoiceTotalVatAmount`` BT-110,
  ``InvoiceTotalVatIncludedAmount`` BT-112 (net + VAT, **before** cash rounding),
  ``InvoiceTotalRoundoffAmount`` BT-114 (the cash rounding), and ``EpiInstructedAmount``
  BT-115, the amount to pay: BT-112 − paid (none) + rounding = the invoice's total. Writing
  the rounded total into BT-112 is what broke conversions of rounded invoices to Peppol
  (the seed notice of April 2019); here BR-CO-16 holds in both formats.
- Amounts use a decimal comma; a credit note (INV02 / 381) keeps its negative amounts and
  names the invoice it credits (``OriginalInvoiceNumber``).
- One ``VatSpecificationDetails`` per VAT category and rate with the VAT computed on the
  group's summed net; rows carry no VAT amount of their own.
- Each row's ``UnitPriceAmount`` is the net unit price (net / quantity, see
  ``reading.line_quantity_and_price``) so that quantity × price = row net.
- A sale outside the scope of VAT (category O) names no VAT numbers, as EN 16931 BR-O-02
  requires of the same invoice in UBL; reverse charge (AE) names both.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
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
from billing.einvoice.schemes import LEGAL_ID_SCHEMES, finnish_ovt
from billing.models import Invoice

ENCODING = "ISO-8859-15"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
EBXML = "http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd"
XLINK = "http://www.w3.org/1999/xlink"

TYPE_INVOICE = ("INV01", "380", "LASKU")
TYPE_CREDIT_NOTE = ("INV02", "381", "HYVITYSLASKU")
# UNTDID 4461: 58 = SEPA credit transfer (euro), 30 = credit transfer.
PAYMENT_MEANS_SEPA = "58"
PAYMENT_MEANS_CREDIT_TRANSFER = "30"
# Finvoice unit prices allow at most 5 decimals.
UNIT_PRICE_DECIMALS = 5
# Unit of a line's quantity (seats, add-ons, interfaces, storage): UN/ECE Rec. 20 "each".
UNIT_CODE = "EA"
UNIT_TEXT = "kpl"
SPECIFICATION_IDENTIFIER = "EN16931"
# What the SOAP frame's CPAId says; operators accept this conventional value.
CPA_ID = "yoursandmycpa"


def invoice_finvoice(invoice: Invoice) -> bytes:
    """The issued invoice or credit note as a Finvoice 3.0 message (ISO-8859-15 bytes)."""
    document = einvoice_read(invoice)
    root = finvoice_build(document)
    return etree.tostring(root, xml_declaration=True, encoding=ENCODING, pretty_print=True)


def invoice_finvoice_with_envelope(invoice: Invoice) -> bytes:
    """The SOAP routing frame followed by the Finvoice message, as one file. Raises
    ValueError when the buyer has no eInvoice address and operator to route to."""
    return finvoice_soap_envelope(invoice) + invoice_finvoice(invoice)


def message_identifier(document: EinvoiceDocument) -> str:
    """The message id of an invoice's Finvoice: stable, so a resend is recognisable."""
    return f"{document.number}-{document.invoice_id}"


def sender_intermediator(document: EinvoiceDocument) -> str:
    """The operator (intermediator) the seller sends through: the FINVOICE_SENDER_INTERMEDIATOR
    setting where the seller uses an operator, else the seller's bank (its BIC)."""
    return getattr(settings, "FINVOICE_SENDER_INTERMEDIATOR", "") or document.bic


def seller_einvoice_address(document: EinvoiceDocument) -> str:
    """The seller's own eInvoice address: a Finnish seller's OVT code; elsewhere its IBAN,
    the other kind of address Finvoice routes on."""
    if document.seller.country == "FI" and document.seller.business_id:
        return finnish_ovt(document.seller.business_id)
    return document.iban


def finvoice_soap_envelope(invoice: Invoice) -> bytes:
    """The SOAP 1.1 envelope with the ebXML message header (version 2.0) that routes a
    Finvoice message from the seller to the buyer's eInvoice address (Finvoice's
    "SOAP-kehys"): From = sender and its intermediator, To = receiver and its intermediator,
    Service Routing, Action ProcessInvoice, the message id and time, and in the body a
    manifest that refers to the message. Not part of the Finvoice XSD."""
    document = einvoice_read(invoice)
    buyer = document.buyer
    if not (buyer.einvoice_address and buyer.einvoice_operator):
        raise ValueError(f"{document.number}: the buyer has no eInvoice address and operator")
    soap = f"{{{SOAP_ENV}}}"
    eb = f"{{{EBXML}}}"
    envelope = etree.Element(
        soap + "Envelope", nsmap={"SOAP-ENV": SOAP_ENV, "eb": EBXML, "xlink": XLINK}
    )
    header = etree.SubElement(etree.SubElement(envelope, soap + "Header"), eb + "MessageHeader")
    header.set(soap + "mustUnderstand", "1")
    header.set(eb + "version", "2.0")
    for tag, party_id, role in (
        ("From", seller_einvoice_address(document), "Sender"),
        ("From", sender_intermediator(document), "Intermediator"),
        ("To", buyer.einvoice_address, "Receiver"),
        ("To", buyer.einvoice_operator, "Intermediator"),
    ):
        party = etree.SubElement(header, eb + tag)
        etree.SubElement(party, eb + "PartyId").text = party_id
        etree.SubElement(party, eb + "Role").text = role
    etree.SubElement(header, eb + "CPAId").text = CPA_ID
    etree.SubElement(header, eb + "Service").text = "Routing"
    etree.SubElement(header, eb + "Action").text = "ProcessInvoice"
    data = etree.SubElement(header, eb + "MessageData")
    etree.SubElement(data, eb + "MessageId").text = message_identifier(document)
    etree.SubElement(data, eb + "Timestamp").text = _timestamp(document.issued_at)
    manifest = etree.SubElement(etree.SubElement(envelope, soap + "Body"), eb + "Manifest")
    manifest.set(eb + "id", "Manifest")
    manifest.set(eb + "version", "2.0")
    reference = etree.SubElement(manifest, eb + "Reference")
    reference.set(eb + "id", "Finvoice")
    reference.set(f"{{{XLINK}}}href", message_identifier(document))
    schema = etree.SubElement(reference, eb + "Schema")
    schema.set(eb + "location", "http://www.finanssiala.fi/finvoice/finvoice.xsd")
    schema.set(eb + "version", "3.0")
    return etree.tostring(envelope, xml_declaration=True, encoding=ENCODING, pretty_print=True)


# The message.


def finvoice_build(document: EinvoiceDocument) -> etree._Element:
    root = etree.Element("Finvoice", nsmap={"xsi": XSI})
    root.set("Version", "3.0")
    root.set(f"{{{XSI}}}noNamespaceSchemaLocation", "Finvoice3.0.xsd")
    buyer = document.buyer
    if buyer.einvoice_address and buyer.einvoice_operator:
        _transmission(root, document)
    _seller(root, document)
    _buyer(root, document)
    _details(root, document)
    for line in document.lines:
        _row(root, document, line)
    _epi(root, document)
    return root


def _transmission(root: etree._Element, document: EinvoiceDocument) -> None:
    details = _sub(root, "MessageTransmissionDetails")
    sender = _sub(details, "MessageSenderDetails")
    _sub(sender, "FromIdentifier", seller_einvoice_address(document))
    _sub(sender, "FromIntermediator", sender_intermediator(document))
    receiver = _sub(details, "MessageReceiverDetails")
    _sub(receiver, "ToIdentifier", document.buyer.einvoice_address)
    _sub(receiver, "ToIntermediator", document.buyer.einvoice_operator)
    message = _sub(details, "MessageDetails")
    _sub(message, "MessageIdentifier", message_identifier(document))
    _sub(message, "MessageTimeStamp", _timestamp(document.issued_at))
    _sub(message, "SpecificationIdentifier", SPECIFICATION_IDENTIFIER)


def _party_details(
    root: etree._Element, document: EinvoiceDocument, party: Party, prefix: str
) -> None:
    details = _sub(root, f"{prefix}PartyDetails")
    legal = LEGAL_ID_SCHEMES.get(party.country)
    if party.business_id:
        identifier = _sub(details, f"{prefix}PartyIdentifier", party.business_id[:35])
        if legal:
            identifier.set("SchemeID", legal)
    for name in _chunks(party.name or "-", 70):
        _sub(details, f"{prefix}OrganisationName", _at_least_two(name))
    if party.vat_number and not document.is_outside_scope:
        _sub(details, f"{prefix}OrganisationTaxCode", party.vat_number[:35])
    if party.has_address:
        address = _sub(details, f"{prefix}PostalAddressDetails")
        for street in _chunks(party.street_address, 35)[:3]:
            _sub(address, f"{prefix}StreetName", _at_least_two(street))
        _sub(address, f"{prefix}TownName", _at_least_two(party.city[:35]))
        _sub(address, f"{prefix}PostCodeIdentifier", _at_least_two(party.postal_code[:35]))
        if party.address_country:
            _sub(address, "CountryCode", party.address_country)


def _seller(root: etree._Element, document: EinvoiceDocument) -> None:
    seller = document.seller
    _party_details(root, document, seller, "Seller")
    if seller.country == "FI" and seller.business_id:
        _sub(root, "SellerOrganisationUnitNumber", finnish_ovt(seller.business_id))
    information = _sub(root, "SellerInformationDetails")
    if seller.city:
        _sub(information, "SellerHomeTownName", seller.city[:35])
    if document.iban:
        account = _sub(information, "SellerAccountDetails")
        _sub(account, "SellerAccountID", document.iban, IdentificationSchemeName="IBAN")
        _sub(account, "SellerBic", document.bic, IdentificationSchemeName="BIC")
    if len(information) == 0:
        root.remove(information)


def _buyer(root: etree._Element, document: EinvoiceDocument) -> None:
    _party_details(root, document, document.buyer, "Buyer")
    if document.buyer.einvoice_address:
        _sub(root, "BuyerOrganisationUnitNumber", document.buyer.einvoice_address)


def _details(root: etree._Element, document: EinvoiceDocument) -> None:
    code, code_un, text = TYPE_CREDIT_NOTE if document.is_credit_note else TYPE_INVOICE
    details = _sub(root, "InvoiceDetails")
    _sub(details, "InvoiceTypeCode", code, CodeListAgencyIdentifier="SPY")
    _sub(details, "InvoiceTypeCodeUN", code_un)
    _sub(details, "InvoiceTypeText", text)
    _sub(details, "OriginCode", "Original")
    _sub(details, "InvoiceNumber", document.number)
    _date(details, "InvoiceDate", document.issue_date)
    if document.credited_number:
        _sub(details, "OriginalInvoiceNumber", document.credited_number)
        if document.credited_date:
            _date(details, "OriginalInvoiceDate", document.credited_date)
    if document.period_start and document.period_end:
        _date(details, "InvoicingPeriodStartDate", document.period_start)
        _date(details, "InvoicingPeriodEndDate", document.period_end)
    _sub(details, "SellersBuyerIdentifier", document.customer_number)
    currency = document.currency
    _amount(details, "RowsTotalVatExcludedAmount", document.lines_net, currency)
    _amount(details, "InvoiceTotalVatExcludedAmount", document.net, currency)
    _amount(details, "InvoiceTotalVatAmount", document.vat, currency)
    _amount(details, "InvoiceTotalVatIncludedAmount", document.gross, currency)
    if document.rounding:
        _amount(details, "InvoiceTotalRoundoffAmount", document.rounding, currency)
    for group in document.vat_groups:
        vat = _sub(details, "VatSpecificationDetails")
        _amount(vat, "VatBaseAmount", group.taxable, currency)
        _sub(vat, "VatRatePercent", _percent(group.rate))
        _sub(vat, "VatCode", group.category)
        _amount(vat, "VatRateAmount", group.vat, currency)
        reason_code, reason_text = document.exemption_reason(group.category)
        if reason_text:
            _sub(vat, "VatFreeText", reason_text[:70])
        if reason_code:
            _sub(vat, "VatExemptionReasonCode", reason_code)
    if document.vat_note:
        _sub(details, "InvoiceFreeText", document.vat_note[:512])
    if document.credited_number:
        _sub(details, "InvoiceFreeText", f"Hyvitys laskulle {document.credited_number}")
    terms = _sub(details, "PaymentTermsDetails")
    if document.payment_terms_days is not None and not document.is_credit_note:
        _sub(terms, "PaymentTermsFreeText", f"{document.payment_terms_days} pv netto")
    _date(terms, "InvoiceDueDate", document.due_date)


def _row(root: etree._Element, document: EinvoiceDocument, line: Line) -> None:
    currency = document.currency
    quantity, price = line_quantity_and_price(
        line.net, line.quantity, max_decimals=UNIT_PRICE_DECIMALS
    )
    row = _sub(root, "InvoiceRow")
    _sub(row, "ArticleName", (line.description or "-")[:100])
    _sub(
        row,
        "InvoicedQuantity",
        _quantity(quantity),
        QuantityUnitCode=UNIT_TEXT,
        QuantityUnitCodeUN=UNIT_CODE,
    )
    _date(row, "StartDate", line.period_start)
    _date(row, "EndDate", line.period_end)
    _sub(
        row,
        "UnitPriceAmount",
        _unit_amount(price),
        AmountCurrencyIdentifier=currency,
        QuantityUnitCodeUN=UNIT_CODE,
    )
    _sub(row, "RowPositionIdentifier", str(line.position))
    if line.order_number:
        _sub(row, "RowOrderConfirmationIdentifier", line.order_number[:70])
    if line.vat_category in CATEGORIES_WITHOUT_RATE:
        _sub(row, "RowVatRatePercent", "0")
    else:
        _sub(row, "RowVatRatePercent", _percent(line.vat_rate))
    _sub(row, "RowVatCode", line.vat_category)
    _amount(row, "RowVatExcludedAmount", line.net, currency)


def _epi(root: etree._Element, document: EinvoiceDocument) -> None:
    epi = _sub(root, "EpiDetails")
    identification = _sub(epi, "EpiIdentificationDetails")
    _date(identification, "EpiDate", document.issue_date)
    _sub(identification, "EpiReference", document.number.replace(" ", "")[:35])
    parties = _sub(epi, "EpiPartyDetails")
    bank = _sub(parties, "EpiBfiPartyDetails")
    if document.bic:
        _sub(bank, "EpiBfiIdentifier", document.bic, IdentificationSchemeName="BIC")
    beneficiary = _sub(parties, "EpiBeneficiaryPartyDetails")
    _sub(beneficiary, "EpiNameAddressDetails", _at_least_two(document.seller.name[:35].strip()))
    business_id = document.seller.business_id.replace(" ", "")
    if 8 <= len(business_id) <= 11:
        _sub(beneficiary, "EpiBei", business_id)
    _sub(beneficiary, "EpiAccountID", document.iban, IdentificationSchemeName="IBAN")
    instruction = _sub(epi, "EpiPaymentInstructionDetails")
    reference = _sub(instruction, "EpiRemittanceInfoIdentifier", document.reference)
    scheme = reference_scheme(document.reference, seller_country=document.seller.country)
    if scheme:
        reference.set("IdentificationSchemeName", scheme)
    _sub(
        instruction,
        "EpiInstructedAmount",
        f"{document.total:.2f}".replace(".", ","),
        AmountCurrencyIdentifier=document.currency,
    )
    _sub(instruction, "EpiCharge", "SHA", ChargeOption="SHA")
    _date(instruction, "EpiDateOptionDate", document.due_date)
    _sub(
        instruction,
        "EpiPaymentMeansCode",
        PAYMENT_MEANS_SEPA if document.currency == "EUR" else PAYMENT_MEANS_CREDIT_TRANSFER,
    )


def reference_scheme(reference: str, *, seller_country: str) -> str:
    """Finvoice's name for a payment reference: SPY for a Finnish reference (viitenumero),
    ISO for an RF creditor reference; "" for another country's (a Swedish OCR number, a
    Norwegian KID), which Finvoice carries without a scheme name."""
    if reference.upper().startswith("RF"):
        return "ISO"
    return "SPY" if seller_country == "FI" else ""


# Writing values.


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str):
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    for name, value in attributes.items():
        element.set(name, value)
    return element


def _date(parent: etree._Element, tag: str, day: datetime.date) -> None:
    _sub(parent, tag, day.strftime("%Y%m%d"), Format="CCYYMMDD")


def _amount(parent: etree._Element, tag: str, amount: Decimal, currency: str) -> None:
    _sub(parent, tag, f"{Decimal(amount):.2f}".replace(".", ","), AmountCurrencyIdentifier=currency)


def _unit_amount(price: Decimal) -> str:
    # Finvoice unit amounts have 2 to 5 decimals (the price has as many as it needs).
    decimals = max(2, -price.as_tuple().exponent)
    return f"{price:.{decimals}f}".replace(".", ",")


def _quantity(quantity: Decimal) -> str:
    return decimal_text(quantity).replace(".", ",")


def _percent(rate: Decimal) -> str:
    return decimal_text(rate).replace(".", ",")


def _timestamp(moment: datetime.datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def _chunks(text: str, size: int) -> list[str]:
    """`text` in pieces of at most `size` characters, split between words where possible
    (Finvoice repeats a name or street element rather than lengthening it)."""
    pieces: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > size:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:size])
            word = word[size:]
        candidate = f"{current} {word}".strip()
        if len(candidate) <= size:
            current = candidate
        else:
            pieces.append(current)
            current = word
    if current:
        pieces.append(current)
    return pieces or [""]


def _at_least_two(text: str) -> str:
    """Finvoice names and address parts have 2 characters at least: a one-letter value is
    padded with a space rather than dropped (the XSD trims nothing for xs:string)."""
    return text if len(text) >= 2 else (text + " ").ljust(2)
