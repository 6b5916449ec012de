"""E-invoices (DESIGN §3.6): an issued invoice or credit note as a Finvoice 3.0 message or a
Peppol BIS Billing 3.0 UBL document, and the checks that prove they are valid.

- ``reading``: the issued invoice read into plain values, the one reading both formats use
  (stored fields and the seller and buyer snapshots only, never today's catalog or details);
- ``schemes``: which identifier scheme (EAS / ISO 6523 ICD) each party's ids carry;
- ``finvoice``: ``invoice_finvoice`` and the SOAP (ebXML) routing frame in front of it;
- ``ubl``: ``invoice_ubl`` (UBL 2.1 Invoice or CreditNote);
- ``validation``: ``finvoice_errors`` and ``ubl_errors`` against the official artefacts;
- ``views``: the tenant's downloads.

Which one a buyer is sent is decided by its billing details as frozen on the invoice
(``einvoice_format``); either can be downloaded for any invoice.
"""

from billing.einvoice.finvoice import (
    finvoice_soap_envelope,
    invoice_finvoice,
    invoice_finvoice_with_envelope,
)
from billing.einvoice.reading import (
    FORMAT_FINVOICE,
    FORMAT_PEPPOL,
    einvoice_format,
    einvoice_read,
)
from billing.einvoice.ubl import invoice_ubl

__all__ = [
    "FORMAT_FINVOICE",
    "FORMAT_PEPPOL",
    "einvoice_format",
    "einvoice_read",
    "finvoice_soap_envelope",
    "invoice_finvoice",
    "invoice_finvoice_with_envelope",
    "invoice_ubl",
]
