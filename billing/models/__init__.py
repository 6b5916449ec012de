"""Billing's models, one module per subject; every model is importable from here."""

from billing.models.contacts import BillingContact, BillingDetails
from billing.models.delivery import (
    EInvoiceChannel,
    EInvoiceDelivery,
    EInvoiceDeliveryStatus,
    InvoiceLink,
    InvoiceLinkView,
    InvoiceLinkViewKind,
    InvoiceMessage,
)
from billing.models.invoices import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    Payment,
    invoice_display_number,
)
from billing.models.migration import (
    OPEN_MIGRATION_ITEM_STATUSES,
    OPEN_MIGRATION_STATUSES,
    SellerMigration,
    SellerMigrationItem,
    SellerMigrationItemStatus,
    SellerMigrationStatus,
)
from billing.models.runs import (
    BillingRun,
    BillingRunChunk,
    BillingRunChunkStatus,
    BillingRunKind,
    BillingRunStatus,
    InvoiceCounter,
)
from billing.models.sellers import SellerBankAccount, SellerEntity
from billing.models.terms import TermsAcceptance, TermsVersion

__all__ = [
    "BillingContact",
    "BillingDetails",
    "BillingRun",
    "BillingRunChunk",
    "BillingRunChunkStatus",
    "BillingRunKind",
    "BillingRunStatus",
    "EInvoiceChannel",
    "EInvoiceDelivery",
    "EInvoiceDeliveryStatus",
    "Invoice",
    "InvoiceCounter",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceLink",
    "InvoiceLinkView",
    "InvoiceLinkViewKind",
    "InvoiceMessage",
    "InvoiceState",
    "OPEN_MIGRATION_ITEM_STATUSES",
    "OPEN_MIGRATION_STATUSES",
    "Payment",
    "SellerBankAccount",
    "SellerEntity",
    "SellerMigration",
    "SellerMigrationItem",
    "SellerMigrationItemStatus",
    "SellerMigrationStatus",
    "TermsAcceptance",
    "TermsVersion",
    "invoice_display_number",
]
