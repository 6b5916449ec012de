"""The project's own checks of a Finvoice 3.0 message: what the XSD cannot see.

No official Finvoice business rules exist as an artefact (only the XSD and the guideline),
so these mirror the EN 16931 rules the same invoice must pass as Peppol BIS:

- sums: rows = RowsTotalVatExcludedAmount; net = rows − discounts + charges; per VAT
  category and rate, the base is the sum of its rows and the VAT is base × rate rounded to
  the cent (stricter than EN 16931's ±1); bases and VAT add up to the totals; total with VAT
  = net + VAT; amount to pay (EpiInstructedAmount) = total − paid + rounding (BR-CO-16);
- VAT categories: AE, O, E, Z at 0 with 0 VAT; AE, O, E with a reason; S above 0; O alone and
  without VAT numbers (BR-O-02); AE with both VAT numbers (BR-AE-02);
- rows: quantity × unit price = net (±0.02, as Peppol R120) where no discount or charge
  applies; periods that end after they start; due date = EpiDateOptionDate;
- identifiers: IBANs (mod 97), BICs, the payment reference by its scheme (SPY Finnish
  7-3-1, ISO RF mod 97, none: Swedish OCR or Norwegian KID), business ids and VAT numbers
  by country, eInvoice addresses and a known operator in the routing details.

Each error reads "<kind>: <what is wrong>", e.g. "amount-due: EpiInstructedAmount …".
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from lxml import etree
from stdnum import bic as bic_numbers
from stdnum import iban as iban_numbers

from billing.references import (
    is_valid_finnish_reference,
    is_valid_norwegian_kid,
    is_valid_rf_reference,
    is_valid_swedish_ocr,
)
from severa.identifiers import (
    IdentifierError,
    business_id_clean,
    einvoice_address_clean,
    einvoice_operator_clean,
)
from severa.money import quantize
from severa.vat import VAT_NUMBER_COUNTRIES, vat_number_valid

TOLERANCE_ROW = Decimal("0.02")
_SCHEME_COUNTRIES = {"0037": "FI", "0007": "SE", "0192": "NO", "0184": "DK"}
_ZERO_RATED = frozenset({"AE", "O", "E", "Z", "K", "G"})
_NEEDS_REASON = frozenset({"AE", "O", "E", "K", "G"})


def _number(text: str | None) -> Decimal | None:
    if text is None or not text.strip():
        return None
    try:
        return Decimal(text.strip().replace(" ", "").replace(",", "."))
    except InvalidOperation:
        return None


def _amount(element: etree._Element | None, path: str) -> Decimal | None:
    return None if element is None else _number(element.findtext(path))


def _cents(value: Decimal, currency: str) -> Decimal:
    try:
        return quantize(value, currency)
    except ValueError:  # a currency we do not price in: round to cents all the same
        return quantize(value, "EUR")


def finvoice_rule_errors(root: etree._Element) -> list[str]:
    """The sums, dates and identifiers of a Finvoice message (see the module docstring)."""
    errors: list[str] = []
    details = root.find("InvoiceDetails")
    if details is None:
        return ["structure: InvoiceDetails is missing"]
    currencies = {
        element.get("AmountCurrencyIdentifier")
        for element in root.iter()
        if element.get("AmountCurrencyIdentifier")
    }
    if len(currencies) > 1:
        errors.append(f"currency: amounts in several currencies {sorted(currencies)}")
    currency = next(iter(sorted(currencies)), "EUR")
    errors += _total_errors(root, details, currency)
    errors += _vat_errors(root, details, currency)
    errors += _row_errors(root)
    errors += _date_errors(root, details)
    errors += _type_errors(details)
    errors += _identifier_errors(root)
    return errors


def _total_errors(root: etree._Element, details: etree._Element, currency: str) -> list[str]:
    errors = []
    row_nets = [_amount(row, "RowVatExcludedAmount") for row in root.findall("InvoiceRow")]
    rows_total = sum((net for net in row_nets if net is not None), Decimal(0))
    stated_rows = _amount(details, "RowsTotalVatExcludedAmount")
    if stated_rows is not None and stated_rows != rows_total:
        errors.append(
            f"rows-total: RowsTotalVatExcludedAmount {stated_rows} is not the sum of the rows' "
            f"RowVatExcludedAmount {rows_total}"
        )
    excluded = _amount(details, "InvoiceTotalVatExcludedAmount")
    if excluded is not None:
        expected = (
            (stated_rows if stated_rows is not None else rows_total)
            - (_amount(details, "DiscountsTotalVatExcludedAmount") or 0)
            + (_amount(details, "ChargesTotalVatExcludedAmount") or 0)
        )
        if excluded != expected:
            errors.append(
                f"total-net: InvoiceTotalVatExcludedAmount {excluded} is not rows − discounts "
                f"+ charges {expected}"
            )
    vat = _amount(details, "InvoiceTotalVatAmount")
    included = _amount(details, "InvoiceTotalVatIncludedAmount")
    if None not in (excluded, vat, included) and included != excluded + vat:
        errors.append(
            f"total-gross: InvoiceTotalVatIncludedAmount {included} is not net {excluded} + "
            f"VAT {vat} (BT-112 is before cash rounding; the rounding is "
            "InvoiceTotalRoundoffAmount)"
        )
    instructed = _amount(root, "EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount")
    if included is not None and instructed is not None:
        payable = (
            included
            - (_amount(details, "InvoicePaidAmount") or 0)
            + (_amount(details, "InvoiceTotalRoundoffAmount") or 0)
        )
        if instructed != payable:
            errors.append(
                f"amount-due: EpiInstructedAmount {instructed} is not total {included} − paid "
                f"+ rounding = {payable} (BR-CO-16)"
            )
    rounding = _amount(details, "InvoiceTotalRoundoffAmount")
    if rounding is not None and abs(rounding) >= 1:
        errors.append(f"rounding: InvoiceTotalRoundoffAmount {rounding} is a unit or more")
    return errors


def _vat_errors(root: etree._Element, details: etree._Element, currency: str) -> list[str]:
    errors = []
    groups = details.findall("VatSpecificationDetails")
    rows_by_group: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for row in root.findall("InvoiceRow"):
        net = _amount(row, "RowVatExcludedAmount")
        code = row.findtext("RowVatCode")
        rate = _number(row.findtext("RowVatRatePercent"))
        if net is not None and code and rate is not None:
            rows_by_group[(code, rate)] += net
    seen: set[tuple[str, Decimal]] = set()
    base_total = vat_total = Decimal(0)
    for group in groups:
        code = group.findtext("VatCode") or ""
        rate = _number(group.findtext("VatRatePercent"))
        base = _amount(group, "VatBaseAmount")
        amount = _amount(group, "VatRateAmount")
        if rate is None or base is None or amount is None:
            errors.append(f"vat-group: {code} needs a base, a rate and a VAT amount")
            continue
        key = (code, rate)
        if key in seen:
            errors.append(f"vat-group: {code} {rate} % is given twice")
        seen.add(key)
        base_total += base
        vat_total += amount
        expected = _cents(base * rate / 100, currency)
        if amount != expected:
            errors.append(
                f"vat-amount: {code} {rate} %: VatRateAmount {amount} is not {base} × {rate} % "
                f"= {expected}"
            )
        if rows_by_group and base != rows_by_group.get(key, Decimal(0)):
            errors.append(
                f"vat-base: {code} {rate} %: VatBaseAmount {base} is not the sum of its rows "
                f"{rows_by_group.get(key, Decimal(0))}"
            )
        if code in _ZERO_RATED and (rate != 0 or amount != 0):
            errors.append(f"vat-zero: category {code} has rate and VAT 0")
        if code == "S" and rate <= 0:
            errors.append("vat-standard: category S needs a rate above 0")
        if code in _NEEDS_REASON and not (
            group.findtext("VatExemptionReasonCode") or group.findtext("VatFreeText")
        ):
            errors.append(f"vat-reason: category {code} needs an exemption reason")
    for key in sorted(set(rows_by_group) - seen):
        errors.append(f"vat-group: rows of {key[0]} {key[1]} % but no VatSpecificationDetails")
    if groups:
        excluded = _amount(details, "InvoiceTotalVatExcludedAmount")
        vat = _amount(details, "InvoiceTotalVatAmount")
        if excluded is not None and base_total != excluded:
            errors.append(
                f"vat-bases: the VAT bases add up to {base_total}, not to the net {excluded}"
            )
        if vat is not None and vat_total != vat:
            errors.append(f"vat-total: the VAT per rate adds up to {vat_total}, not to {vat}")
    codes = {code for code, _rate in rows_by_group} | {
        group.findtext("VatCode") for group in groups
    }
    seller_tax = root.findtext("SellerPartyDetails/SellerOrganisationTaxCode")
    buyer_tax = root.findtext("BuyerPartyDetails/BuyerOrganisationTaxCode")
    if "O" in codes and (seller_tax or buyer_tax):
        errors.append("vat-outside-scope: a sale outside the scope of VAT names no VAT numbers")
    if "O" in codes and len(codes) > 1:
        errors.append("vat-outside-scope: category O cannot be mixed with other categories")
    if "AE" in codes and not (seller_tax and buyer_tax):
        errors.append("vat-reverse-charge: reverse charge names the seller's and buyer's VAT")
    return errors


def _row_errors(root: etree._Element) -> list[str]:
    errors = []
    for row in root.findall("InvoiceRow"):
        position = row.findtext("RowPositionIdentifier") or "?"
        net = _amount(row, "RowVatExcludedAmount")
        quantity = _number(row.findtext("InvoicedQuantity"))
        price = _amount(row, "UnitPriceAmount")
        adjusted = any(
            row.find(tag) is not None
            for tag in (
                "RowDiscountPercent",
                "RowDiscountAmount",
                "RowChargeDetails",
                "UnitPriceBaseQuantity",
                "RowProgressiveDiscountDetails",
            )
        )
        if (
            None not in (net, quantity, price)
            and not adjusted
            and abs(quantity * price - net) > TOLERANCE_ROW
        ):
            errors.append(
                f"row: line {position}: quantity {quantity} × unit price {price} is not its "
                f"net {net}"
            )
        start, end = row.findtext("StartDate"), row.findtext("EndDate")
        if start and end and start > end:
            errors.append(
                f"row: line {position}: its period ends ({end}) before it starts ({start})"
            )
    return errors


def _date_errors(root: etree._Element, details: etree._Element) -> list[str]:
    errors = []
    due = details.findtext("PaymentTermsDetails/InvoiceDueDate")
    payment_date = root.findtext("EpiDetails/EpiPaymentInstructionDetails/EpiDateOptionDate")
    if due and payment_date and due != payment_date:
        errors.append(f"due-date: EpiDateOptionDate {payment_date} is not InvoiceDueDate {due}")
    invoice_date = details.findtext("InvoiceDate")
    if invoice_date and due and due < invoice_date:
        errors.append(f"due-date: due {due} before the invoice date {invoice_date}")
    start = details.findtext("InvoicingPeriodStartDate")
    end = details.findtext("InvoicingPeriodEndDate")
    if start and end and start > end:
        errors.append(f"period: the invoicing period ends ({end}) before it starts ({start})")
    return errors


def _type_errors(details: etree._Element) -> list[str]:
    code = details.findtext("InvoiceTypeCode")
    code_un = details.findtext("InvoiceTypeCodeUN")
    errors = []
    if code == "INV02" and not details.findtext("OriginalInvoiceNumber"):
        errors.append("credit-note: INV02 names the invoice it credits (OriginalInvoiceNumber)")
    expected_un = {"INV01": "380", "INV02": "381"}.get(code or "")
    if expected_un and code_un and code_un != expected_un:
        errors.append(f"type: InvoiceTypeCode {code} goes with InvoiceTypeCodeUN {expected_un}")
    return errors


def _identifier_errors(root: etree._Element) -> list[str]:
    errors = []
    for path in (
        "SellerInformationDetails/SellerAccountDetails/SellerAccountID",
        "EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiAccountID",
    ):
        for element in root.findall(path):
            if element.get("IdentificationSchemeName") == "IBAN" and not iban_numbers.is_valid(
                element.text or ""
            ):
                errors.append(f"iban: {element.tag} {element.text!r} is not a valid IBAN")
    for path in (
        "SellerInformationDetails/SellerAccountDetails/SellerBic",
        "EpiDetails/EpiPartyDetails/EpiBfiPartyDetails/EpiBfiIdentifier",
    ):
        for element in root.findall(path):
            if not bic_numbers.is_valid(element.text or ""):
                errors.append(f"bic: {element.tag} {element.text!r} is not a valid BIC")
    errors += _reference_errors(root)
    for prefix in ("Seller", "Buyer"):
        errors += _party_identifier_errors(root, prefix)
    transmission = root.find("MessageTransmissionDetails")
    if transmission is not None:
        for path in ("MessageSenderDetails/FromIdentifier", "MessageReceiverDetails/ToIdentifier"):
            value = transmission.findtext(path) or ""
            try:
                einvoice_address_clean(value)
            except IdentifierError as error:
                errors.append(f"einvoice-address: {path} {value!r}: {error}")
        operator = transmission.findtext("MessageReceiverDetails/ToIntermediator") or ""
        try:
            einvoice_operator_clean(operator)
        except IdentifierError as error:
            errors.append(f"einvoice-operator: ToIntermediator {operator!r}: {error}")
    return errors


def _reference_errors(root: etree._Element) -> list[str]:
    element = root.find("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
    if element is None or not element.text:
        return []
    reference, scheme = element.text, element.get("IdentificationSchemeName")
    if scheme == "SPY":
        valid = is_valid_finnish_reference(reference)
    elif scheme == "ISO":
        valid = is_valid_rf_reference(reference)
    else:  # another country's reference: a Swedish OCR number or a Norwegian KID
        valid = is_valid_swedish_ocr(reference) or is_valid_norwegian_kid(reference)
    if valid:
        return []
    return [f"reference: {reference!r} fails its check digits (scheme {scheme or 'none'})"]


def _party_identifier_errors(root: etree._Element, prefix: str) -> list[str]:
    details = root.find(f"{prefix}PartyDetails")
    if details is None:
        return []
    errors = []
    identifier = details.find(f"{prefix}PartyIdentifier")
    address_country = details.findtext(f"{prefix}PostalAddressDetails/CountryCode") or ""
    if identifier is not None and identifier.text:
        country = _SCHEME_COUNTRIES.get(identifier.get("SchemeID", ""), address_country)
        try:
            business_id_clean(country, identifier.text)
        except IdentifierError as error:
            errors.append(f"business-id: {prefix}PartyIdentifier {identifier.text!r}: {error}")
    tax_code = details.findtext(f"{prefix}OrganisationTaxCode")
    if tax_code:
        prefix_country = "GR" if tax_code[:2].upper() == "EL" else tax_code[:2].upper()
        if prefix_country in VAT_NUMBER_COUNTRIES and not vat_number_valid(
            prefix_country, tax_code
        ):
            errors.append(f"vat-number: {prefix}OrganisationTaxCode {tax_code!r} is not valid")
        elif not tax_code[:2].isalpha():
            errors.append(f"vat-number: {prefix}OrganisationTaxCode {tax_code!r} has no prefix")
    return errors
