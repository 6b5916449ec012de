"""Invoice and credit note documents (DESIGN §3.5, §3.7): what an issued invoice shows, and
its PDF.

`invoice_document` reads an issued invoice into plain values: the seller and its bank
account and the buyer as frozen at issue (`seller_snapshot`, `buyer_snapshot`), the lines
with the period each covers, the VAT breakdown per rate (`billing.invoicing.vat_breakdown`,
the same function that computed the stored totals), the payment reference in its print
form. The tenant's invoice page, the e-mailed link's page and the PDF all show that reading.

The PDF is rendered once, by a worker after the issuing transaction has committed
(`billing.delivery`), stored on the invoice and from then on served as stored:
`invoice_pdf_bytes` renders only when nothing is stored yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from stdnum import iban as iban_numbers

from accounts.models import Tenant
from billing.bank_accounts import DomesticDetail, domestic_payment_details
from billing.invoicing import VatGroup, vat_breakdown
from billing.models import Invoice, InvoiceKind, InvoiceLine, SellerBankAccount
from billing.references import reference_display
from severa.line_texts import document_language
from severa.pdf import html_to_pdf, pdf_stored_once
from subscriptions.documents import Party, party_read

DOCUMENT_TEMPLATE = "documents/invoice.html"


@dataclass(frozen=True)
class BankAccount:
    iban: str
    bic: str
    bank_name: str = ""
    # What payers in the buyer's country expect beside IBAN and BIC (billing.bank_accounts).
    domestic: tuple[DomesticDetail, ...] = ()

    @property
    def iban_display(self) -> str:
        """Groups of four, as printed on paper: 'FI21 1234 5600 0007 85'."""
        return iban_numbers.format(self.iban) if self.iban else ""


@dataclass(frozen=True)
class InvoiceDocument:
    invoice: Invoice
    seller: Party
    bank: BankAccount
    payment_terms_days: int | None
    buyer: Party
    lines: tuple[InvoiceLine, ...]
    vat_groups: tuple[VatGroup, ...]
    reference: str
    # A credit note's invoice: its number and date (empty on an invoice).
    credited_number: str
    credited_date: date | None
    language: str
    # A partner's consolidated invoice: its lines under each customer, with subtotals.
    customer_groups: tuple[CustomerGroup, ...] = field(default=())
    # A credit and reissue: on the new invoice, the invoice it replaces and the credit note
    # that credited it; on that credit note, the new invoice. Empty otherwise.
    replaces_number: str = ""
    replaces_credit_note_number: str = ""
    reissued_as_number: str = ""

    @property
    def is_credit_note(self) -> bool:
        return self.invoice.kind == InvoiceKind.CREDIT_NOTE

    @property
    def has_rounding(self) -> bool:
        return Decimal(self.invoice.rounding) != 0


@dataclass(frozen=True)
class CustomerGroup:
    """One customer's lines on a partner's consolidated invoice, and their net subtotal."""

    customer: str
    lines: tuple[InvoiceLine, ...]
    subtotal: Decimal


def customer_groups(
    *, invoice: Invoice, lines: tuple[InvoiceLine, ...]
) -> tuple[CustomerGroup, ...]:
    """The lines of a partner's invoice grouped by customer, in line order (the run writes
    each customer's lines together); empty for a tenant's own invoice."""
    if invoice.partner_id is None:
        return ()

    names = dict(
        Tenant.objects.filter(pk__in={line.tenant_id for line in lines}).values_list("pk", "name")
    )
    groups: list[tuple[int, list[InvoiceLine]]] = []
    for line in lines:
        if not groups or groups[-1][0] != line.tenant_id:
            groups.append((line.tenant_id, []))
        groups[-1][1].append(line)
    return tuple(
        CustomerGroup(
            customer=names.get(tenant_id, ""),
            lines=tuple(group),
            subtotal=sum((Decimal(line.net) for line in group), Decimal(0)),
        )
        for tenant_id, group in groups
    )


def _buyer(snapshot: object, language: str) -> Party:
    # The invoice address's country (billing details) is where the buyer is written to;
    # the tenant's country decided the VAT and is shown when no address country was given.
    data = dict(snapshot) if isinstance(snapshot, dict) else {}
    if data.get("address_country"):
        data["country"] = data["address_country"]
    return party_read(snapshot=data, language=language)


def _bank(invoice: Invoice, seller: dict, buyer: Party) -> BankAccount:
    account = {key: str(value or "") for key, value in seller.items() if isinstance(value, str)}
    if "bank_name" not in seller and account.get("iban"):
        # A document issued before snapshots held the whole account froze only IBAN and
        # BIC: the bank name and domestic numbers of the seller's account with that IBAN,
        # which names the same account. A snapshot holding them (SellerBankAccount.snapshot)
        # is used as it is.
        row = SellerBankAccount.objects.filter(
            seller_id=invoice.seller_id, iban=account["iban"]
        ).first()
        if row is not None:
            account = row.snapshot() | {"iban": account["iban"], "bic": account.get("bic", "")}
    return BankAccount(
        iban=account.get("iban", ""),
        bic=account.get("bic", ""),
        bank_name=account.get("bank_name", ""),
        domestic=domestic_payment_details(account, buyer_country=buyer.country),
    )


def invoice_bank_account(*, invoice: Invoice, language: str | None = None) -> BankAccount:
    """The account the invoice is paid to, with the domestic numbers for its buyer."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    seller = invoice.seller_snapshot if isinstance(invoice.seller_snapshot, dict) else {}
    return _bank(invoice, seller, _buyer(invoice.buyer_snapshot, language))


def invoice_document(*, invoice: Invoice, language: str | None = None) -> InvoiceDocument:
    """Everything an invoice or credit note shows. Reads the lines (one query unless
    prefetched) and, on a credit note, the credited invoice (one query unless selected)."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    seller = invoice.seller_snapshot if isinstance(invoice.seller_snapshot, dict) else {}
    lines = tuple(invoice.lines.all())
    credited = invoice.credited_invoice if invoice.credited_invoice_id else None
    terms = seller.get("payment_terms_days")
    buyer = _buyer(invoice.buyer_snapshot, language)
    return InvoiceDocument(
        invoice=invoice,
        seller=party_read(snapshot=seller, language=language),
        bank=_bank(invoice, seller, buyer),
        payment_terms_days=terms if isinstance(terms, int) else None,
        buyer=buyer,
        lines=lines,
        vat_groups=tuple(vat_breakdown(lines=lines, currency=invoice.currency)),
        reference=reference_display(invoice.reference, country=str(seller.get("country") or "")),
        credited_number=credited.display_number if credited is not None else "",
        credited_date=credited.invoice_date if credited is not None else None,
        language=language,
        customer_groups=customer_groups(invoice=invoice, lines=lines),
        **_reissue_numbers(invoice),
    )


def _reissue_numbers(invoice: Invoice) -> dict[str, str]:
    """The numbers a credit and reissue links (one query, only on such documents)."""
    if invoice.reissue_credit_note_id is not None:
        credit_note = (
            Invoice.objects.with_scopes_disabled()
            .select_related("credited_invoice")
            .get(pk=invoice.reissue_credit_note_id)
        )
        return {
            "replaces_number": credit_note.credited_invoice.display_number,
            "replaces_credit_note_number": credit_note.display_number,
        }
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        new = Invoice.objects.with_scopes_disabled().filter(reissue_credit_note=invoice).first()
        if new is not None:
            return {"reissued_as_number": new.display_number}
    return {}


def invoice_language(*, invoice: Invoice) -> str:
    # A partner organisation has no language of its own: the site's.
    return document_language(invoice.recipient)


def invoice_html(*, invoice: Invoice) -> str:
    """The document's HTML in the tenant's language (money and dates formatted for it)."""
    language = invoice_language(invoice=invoice)
    with translation.override(language):
        document = invoice_document(invoice=invoice, language=language)
        return render_to_string(DOCUMENT_TEMPLATE, {"document": document, "invoice": invoice})


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """Render the invoice or credit note to PDF (A4). Slow (a third of a second a page):
    call it from a worker or the download fallback, never inside the issuing transaction or
    while holding a lock."""
    return html_to_pdf(invoice_html(invoice=invoice))


def invoice_pdf_bytes(*, invoice: Invoice) -> bytes:
    """The stored PDF; rendered and stored first (under the invoice's row lock, only if
    still missing) when the worker has not done it yet. Call inside the tenant's scope."""
    # Looked up at call time (not bound at import) so tests can count renders.
    return pdf_stored_once(invoice, lambda invoice: invoice_pdf(invoice=invoice))


def invoice_filename(*, invoice: Invoice) -> str:
    prefix = "credit-note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "invoice"
    return f"{prefix}-{invoice.display_number}.pdf"
