"""A strict in-memory Visma eEkonomi (eAccounting API v2) for tests, the benchmark and manual
runs.

- the Visma Online identity server: ``GET /connect/authorize`` (a consent page: sign in,
  pick the company), ``POST /connect/authorize`` (approve: back to the client with ``code``
  and ``state``), ``POST /connect/token`` with Basic client authentication for
  ``authorization_code`` and ``refresh_token`` (single use: a spent refresh token is refused
  with ``invalid_grant``), ``POST /connect/revocation``; access tokens last one hour;
- under ``/v2``: customers, articles (no DELETE), units, articleaccountcodings,
  termsofpayment and vatcodes (read-only registers preset as in a new Swedish company),
  projects, costcenters with their items (``/costcenteritems``), customerinvoicedrafts
  (``POST …/{id}/convert`` books one), customerinvoices and supplierinvoices (read-only);
  the real field names; unknown fields, missing required ones, too long values and ids of
  missing records are refused with 400 and the API's error shape
  (``ErrorCode``, ``DeveloperErrorMessage``, ``ErrorId``, ``Errors``); PUT replaces a record;
- ``$page``/``$pagesize`` (default 50, at most 1000) with ``Meta``; ``$filter`` in OData
  (``Field eq 'x'``, ``ChangedUtc gt 2024-01-01T00:00:00Z``, joined by ``and``);
- 600 requests a minute per client id and endpoint (429, ErrorCode 4010, "Try again in N
  seconds");
- a company without the API module answers 403, ErrorCode 4002 "No access to module:
  api_standard" (``fake.remove_api_module()``); one resource's module missing
  (``fake.unlicense("articles")``) answers 403 4002 for that resource only;
- what users do in eEkonomi: ``book_draft``, ``mark_paid``, ``delete_draft``,
  ``credit_invoice``, ``add_supplier_invoice``;
- the faults of integrations/fakes.py (5xx, 429, timeouts, lost answers, late commits).

Run it: ``python -m integrations.eaccounting.fake --port 8766``.
"""

from integrations.eaccounting.fake.app import (
    ALL_SCOPES,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_COMPANY,
    EAccountingFake,
)
from integrations.eaccounting.fake.server import FakeEAccountingServer

__all__ = [
    "ALL_SCOPES",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_COMPANY",
    "EAccountingFake",
    "FakeEAccountingServer",
]
