"""An in-memory Visma.net ERP for tests, the benchmark and manual runs, written from the
API's documentation and DTOs:

- Visma Connect: ``GET /connect/authorize`` (signs in at once and redirects back with
  ``code`` and ``state``; fake-only ``tenant_id`` picks the tenant), ``POST /connect/token``
  with ``authorization_code`` (a refresh token only with ``offline_access``),
  ``refresh_token`` (rotating) and ``client_credentials`` (``tenant_id`` of a tenant that
  granted the app; service scopes ``vismanet_erp_service_api:read|create|update|delete``),
  ``POST /connect/revocation``. A token of the *customer* tenant authenticates, and every
  API call answers 401;
- ``/v1/customer``, ``/v1/inventory``, ``/v1/project``, ``/v1/customerinvoice``,
  ``/v1/supplierInvoice``: camelCase read DTOs; writes in the ``{"value": …}`` wrapper
  (lines not wrapped, each with its ``operation``), unknown fields and bare values refused
  (400, ``ExceptionType``/``ExceptionMessage``); creates answer 201 with ``Location`` and
  no body; updates 204, ``If-Match`` against the ``timeStamp`` (412); paging with
  ``pageNumber``/``pageSize`` (100 without it, up to 1000) and ``metadata`` in each item;
  ``lastModifiedDateTime`` with its condition;
- ``/v1/dimension/SUBACCOUNT``: segments and their values; an invoice line whose subaccount
  names an unknown or inactive segment value is refused;
- Norwegian VAT codes (3, 31, 33, 5, 6) checked on items and invoice lines;
- the rate limit: a fixed window per client and company (``rate_limit`` per
  ``rate_window`` seconds) advertised in ``X-RateLimit-Limit``/``-Remaining``/``-Reset``
  on every answer, 429 beyond;
- licences per company (``fake.unlicense("project")``: 403), and the faults of
  integrations/fakes.py (5xx, 429, timeouts, lost answers, late commits).

Run it: ``python -m integrations.vismanet.fake --port 8766``.
"""

from integrations.vismanet.fake.app import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_COMPANY,
    DEFAULT_CUSTOMER_TENANT,
    VismaNetFake,
)
from integrations.vismanet.fake.server import FakeVismaNetServer

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_COMPANY",
    "DEFAULT_CUSTOMER_TENANT",
    "FakeVismaNetServer",
    "VismaNetFake",
]
