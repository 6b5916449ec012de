"""A faithful in-memory Fortnox API v3 for tests, the benchmark and manual runs.

What it implements (paths under ``/3``, PascalCase fields, ``{"Customer": {...}}``
envelopes, list items with ``MetaInformation``, ``page``/``limit``/``offset`` paging up to
500, ``lastmodified`` in Swedish local time, named ``filter`` and search parameters,
``sortby``/``sortorder``, ``@url`` fields, ``ErrorInformation`` errors):

- customers, articles, units, projects, costcenters, suppliers: list, get, create, update,
  delete; numbers stay reserved after deletion (2000637 for customers, 2000013 articles);
  an article or invoice row naming a missing unit, article, project or cost centre is
  refused (400);
- invoices: create/update (totals, VAT, round-off and ``Balance`` computed), and the actions
  ``PUT bookkeep | cancel | externalprint`` and ``GET email`` (Sent); booked or cancelled
  invoices cannot be updated;
- invoicepayments: create (lowers the invoice's ``Balance``; ``FinalPayDate`` when paid),
  ``PUT bookkeep``; supplierinvoices with rows allocated to projects;
- OAuth: ``GET /oauth-v1/auth`` (approves at once and redirects with ``code`` and
  ``state``; fake-only ``tenant`` parameter), ``POST /oauth-v1/token`` with Basic client
  authentication for ``authorization_code`` (single use, 10 min, same redirect_uri),
  ``refresh_token`` (rotation: the old refresh token is spent) and ``client_credentials``
  (``TenantId`` header, service accounts only), ``POST /oauth-v1/revoke``; access tokens
  last 1 h, refresh tokens 45 days; scopes are checked per resource (403);
- the rate limit: 25 requests in any 5-second sliding window per client id and company,
  429 beyond (``Retry-After`` only when ``fake.faults.retry_after`` is set: Fortnox
  documents none);
- ``GET /3/companyinformation`` (``DatabaseNumber``, ``OrganizationNumber``);
- ``POST /3/inbox`` (multipart upload) and the attachments API under
  ``/api/fileattachments/attachments-v1`` (attach a file to an invoice, list, detach);
- ``API_BLANK`` clears a field; an empty string in an update leaves it as it is; numbers in
  article list items are strings;
- licences per company (``fake.unlicense(scope)``: 403, code 2001101, like a token without
  the scope);
- faults, drawn from a seeded generator (``fake.faults``) or scripted
  (``fake.inject(kind, count=, method=, path_prefix=)``): ``error_500``, ``429``,
  ``timeout`` (applied, answered after ``timeout_seconds``), ``lost_response`` (applied,
  connection dropped), ``lost_response_500`` (applied, then 500), ``late_commit`` (nothing
  visible for ``late_commit_seconds``, then applied and answered: a client with a shorter
  timeout never hears of it);
- a request log (``fake.log``, ``fake.requests()``, ``fake.max_in_window()``).

Fake-only control endpoints under ``/_fake/``: ``GET requests``, ``POST faults``,
``POST inject``, ``POST tokens``, ``POST codes``, ``POST service-accounts``, ``POST reset``.

Run it: ``python -m integrations.fortnox.fake --port 8765``.
"""

from integrations.fortnox.fake.app import (
    ALL_SCOPES,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TENANT,
    FakeRequest,
    FakeResponse,
    Faults,
    FortnoxFake,
    LoggedRequest,
)
from integrations.fortnox.fake.resources import RESOURCES, Code
from integrations.fortnox.fake.server import FakeFortnoxServer

__all__ = [
    "ALL_SCOPES",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_TENANT",
    "RESOURCES",
    "Code",
    "FakeFortnoxServer",
    "FakeRequest",
    "FakeResponse",
    "Faults",
    "FortnoxFake",
    "LoggedRequest",
]
