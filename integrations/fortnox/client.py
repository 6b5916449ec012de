"""A client of the Fortnox REST API v3 and its OAuth2 endpoints.

Contract for callers (the sync engine and the Fortnox connector):

- **Tokens.** ``exchange_code``, ``refresh_tokens``, ``client_credentials_token`` and
  ``revoke_refresh_token`` talk to the OAuth endpoints (``FORTNOX_TOKEN_URL`` …) with the
  app's ``FORTNOX_CLIENT_ID``/``FORTNOX_CLIENT_SECRET`` and return a ``TokenSet``. Refresh
  tokens **rotate**: store the returned ``refresh_token`` before anything else, the old one
  is spent. A refresh (or code exchange) whose answer is lost raises ``AmbiguousWrite``:
  the old refresh token may already be spent; if refreshing again says ``invalid_grant``
  the tenant has to connect again.
- **Rate limit.** Fortnox allows 25 requests in any 5-second window per client id and
  company (429 beyond). ``FortnoxClient`` calls ``rate_limiter.acquire()`` before every
  request; pass ``fortnox_rate_limiter(connection_key)`` so that every worker of one
  connection shares one Redis limiter. On a 429 the client pauses the shared limiter for
  ``Retry-After`` (or ``default_retry_after`` seconds: Fortnox documents no header) and
  tries again, up to ``rate_limit_attempts`` times, then raises ``RateLimited``.
- **Reads** (GET) are retried on timeouts, connection errors and 5xx with exponential
  backoff and jitter (``read_attempts`` in all), then raise ``TemporaryError``.
- **Writes** (POST, PUT, DELETE and the mailing action) are **never retried blindly**: if
  the request may have reached Fortnox but no answer came back (read timeout, connection
  dropped, 5xx), the client raises ``AmbiguousWrite``. The caller must then look the record
  up by its deterministic reference (its own ``CustomerNumber``/``ArticleNumber``/
  ``ProjectNumber``, or ``ExternalInvoiceReference1`` for invoices: see
  ``find_invoices_by_reference``) and create it again only if it is not there. A write that
  certainly never left (connection refused, connect timeout) or was refused before running
  (401 after a token refresh, 429) is retried by the client.
- **Errors.** ``FortnoxError`` (status, code, message; ``temporary`` says whether a later
  attempt may succeed) and its subclasses: ``NotFound`` (404), ``Unauthorized`` (401, after
  the optional ``token_refresher`` was tried), ``PermissionMissing`` (403, or a 401 whose
  code names a missing scope or licence: the engine blocks that entity type),
  ``AuthorizationError`` (OAuth endpoint
  refusals, e.g. ``invalid_grant``), ``TemporaryError`` → ``RateLimited(retry_after)``,
  ``AmbiguousWrite`` (temporary, but not a ``TemporaryError``, so a generic retry does not
  catch it by accident), and ``Refused`` (any other 4xx). Each is also the sync engine's
  error of the same meaning (integrations/errors.py). Fortnox's ``ErrorInformation`` is
  read in either key casing.
- **Values.** Responses are parsed with decimals as ``Decimal`` (money never becomes a
  float in our code); a ``Decimal`` in a request body is written as a JSON number.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urljoin

import requests
from django.conf import settings

from integrations.fortnox.errors import (
    AmbiguousWrite,
    AuthorizationError,
    FortnoxError,
    NotFound,
    PermissionMissing,
    RateLimited,
    Refused,
    TemporaryError,
    Unauthorized,
    error_information,
    is_permission_refusal,
    never_sent,
)
from integrations.fortnox.oauth import (
    TokenSet,
    authorization_url,
    client_credentials_token,
    exchange_code,
    refresh_tokens,
    revoke_refresh_token,
)
from integrations.http import backoff_delays, parse_retry_after
from integrations.ratelimit import RateLimiter, rate_limiter

__all__ = [
    "AmbiguousWrite",
    "AuthorizationError",
    "FortnoxClient",
    "FortnoxError",
    "NotFound",
    "PermissionMissing",
    "RateLimited",
    "Refused",
    "TemporaryError",
    "TokenSet",
    "Unauthorized",
    "authorization_url",
    "client_credentials_token",
    "exchange_code",
    "fortnox_rate_limiter",
    "refresh_tokens",
    "revoke_refresh_token",
]

logger = logging.getLogger(__name__)

RATE_LIMIT = 25
RATE_WINDOW = 5.0
# Our window is a little longer than Fortnox's: Fortnox counts arrivals, and network delay
# can bring two requests admitted 5 s apart closer together on arrival.
RATE_MARGIN = 0.25
# Requests of each window kept for asking new connections which company they are.
PROBE_SHARE = 1
MAX_PAGE_SIZE = 500
# The file-attachments API is under /api, beside /3.
ATTACHMENTS_PATH = "/api/fileattachments/attachments-v1"
STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


# ---------------------------------------------------------------------------- resources
@dataclass(frozen=True)
class Resource:
    path: str
    single: str  # the envelope of one record: {"Customer": {...}}
    plural: str  # the envelope of a list: {"Customers": [...], "MetaInformation": {...}}
    key: str


CUSTOMERS = Resource("customers", "Customer", "Customers", "CustomerNumber")
ARTICLES = Resource("articles", "Article", "Articles", "ArticleNumber")
UNITS = Resource("units", "Unit", "Units", "Code")
PROJECTS = Resource("projects", "Project", "Projects", "ProjectNumber")
COST_CENTERS = Resource("costcenters", "CostCenter", "CostCenters", "Code")
SUPPLIERS = Resource("suppliers", "Supplier", "Suppliers", "SupplierNumber")
INVOICES = Resource("invoices", "Invoice", "Invoices", "DocumentNumber")
INVOICE_PAYMENTS = Resource("invoicepayments", "InvoicePayment", "InvoicePayments", "Number")
SUPPLIER_INVOICES = Resource(
    "supplierinvoices", "SupplierInvoice", "SupplierInvoices", "GivenNumber"
)


# ---------------------------------------------------------------------------- helpers
def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Exact for amounts: repr(float) of a value with <= 15 significant digits prints it
        # back unchanged.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(document: Any) -> bytes:
    return json.dumps(document, default=_json_default).encode()


def decode(content: bytes) -> Any:
    return json.loads(content, parse_float=Decimal)


def format_lastmodified(moment: datetime.datetime) -> str:
    """Fortnox's ``lastmodified``: Swedish local time, ``YYYY-MM-DD HH:MM:SS``."""
    if moment.tzinfo is None:
        raise ValueError("lastmodified needs an aware datetime")
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S")


def fortnox_rate_limiter(company_key: str) -> RateLimiter:
    """The limiter every worker shares for one Fortnox company (client id + company). One
    request of each window is kept for `company_probe_limiter`."""
    return rate_limiter(
        f"fortnox:{company_key}",
        limit=RATE_LIMIT - PROBE_SHARE,
        window=RATE_WINDOW,
        margin=RATE_MARGIN,
    )


def company_probe_limiter(client_id: str) -> RateLimiter:
    """The limiter of the one request that asks a new connection which company it is
    (/3/companyinformation), before its company's limiter is known: one such request per
    window for the whole client id, so with the company's own limiter the company never
    gets more than RATE_LIMIT requests in a window."""
    return rate_limiter(
        f"fortnox:{client_id}:company-probe",
        limit=PROBE_SHARE,
        window=RATE_WINDOW,
        margin=RATE_MARGIN,
    )


# ---------------------------------------------------------------------------- API client
class FortnoxClient:
    """Calls of one Fortnox connection (one access token). Not thread-safe: one per task."""

    def __init__(
        self,
        access_token: str,
        *,
        rate_limiter: RateLimiter | None = None,
        token_refresher: Callable[[], str] | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        read_attempts: int = 4,
        rate_limit_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        default_retry_after: float = RATE_WINDOW,
        session: requests.Session | None = None,
    ) -> None:
        self.access_token = access_token
        self.rate_limiter = rate_limiter
        self.token_refresher = token_refresher
        self.base_url = base_url or settings.FORTNOX_API_URL
        if not self.base_url.endswith("/"):
            self.base_url += "/"
        self.timeout = timeout or settings.FORTNOX_TIMEOUT
        self.read_attempts = read_attempts
        self.rate_limit_attempts = rate_limit_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.default_retry_after = default_retry_after
        self.session = session or requests.Session()

    # -- the one request loop -------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        is_write: bool | None = None,
    ) -> Any:
        """One API call with the retry rules of the module docstring; the decoded JSON
        (None for an empty answer). `path` is relative to the API URL, e.g. "customers"
        (or absolute, e.g. "/api/fileattachments/attachments-v1"); `files` are sent as
        multipart/form-data instead of a JSON body."""
        is_write = method != "GET" if is_write is None else is_write
        url = urljoin(self.base_url, path)
        data = None if body is None else encode(body)
        delays = backoff_delays(
            attempts=self.read_attempts, base=self.backoff_base, cap=self.backoff_cap
        )
        rate_limited = 0
        refreshed = False
        while True:
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            headers = {
                "Authorization": f"Bearer {self.access_token}",
                "Accept": "application/json",
            }
            if data is not None:
                headers["Content-Type"] = "application/json"
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    files=files,
                    headers=headers,
                    timeout=self.timeout,
                )
            except requests.exceptions.RequestException as error:
                if is_write and not never_sent(error):
                    raise AmbiguousWrite(
                        f"Fortnox {method} {path}: no answer ({error.__class__.__name__})",
                        method=method,
                        path=path,
                    ) from error
                problem: FortnoxError = TemporaryError(
                    f"Fortnox {method} {path}: {error.__class__.__name__}: {error}"
                )
                if not self._pause_before_retry(delays, problem):
                    raise problem from error
                continue
            status = response.status_code
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                wait = self.default_retry_after if retry_after is None else retry_after
                rate_limited += 1
                if rate_limited > self.rate_limit_attempts:
                    raise RateLimited(f"Fortnox {method} {path}: rate limited", retry_after=wait)
                logger.info("Fortnox %s %s: 429, every caller waits %.1f s", method, path, wait)
                # Every worker of this connection waits, not only this one.
                if self.rate_limiter is not None:
                    self.rate_limiter.pause(wait)
                else:
                    time.sleep(wait)
                continue
            if status in (401, 403):
                message, code = error_information(response.content)
                if is_permission_refusal(status, code):
                    raise PermissionMissing(
                        f"Fortnox {method} {path}: {message}",
                        status=status,
                        code=code,
                        scope=path.split("/")[0],
                    )
            if status == 401 and self.token_refresher is not None and not refreshed:
                self.access_token = self.token_refresher()
                refreshed = True
                continue
            if status >= 500:
                message, code = error_information(response.content)
                if is_write:
                    raise AmbiguousWrite(
                        f"Fortnox {method} {path}: {message}",
                        method=method,
                        path=path,
                        status=status,
                    )
                problem = TemporaryError(
                    f"Fortnox {method} {path}: {message}", status=status, code=code
                )
                if not self._pause_before_retry(delays, problem):
                    raise problem
                continue
            if status >= 400:
                message, code = error_information(response.content)
                error_class = {401: Unauthorized, 404: NotFound}.get(status, Refused)
                raise error_class(message, status=status, code=code)
            if not response.content:
                return None
            try:
                return decode(response.content)
            except ValueError as error:
                raise Refused(f"Fortnox {method} {path}: not JSON", status=status) from error

    @staticmethod
    def _pause_before_retry(delays: Iterator[float], problem: FortnoxError) -> bool:
        """Sleep before the next attempt; False when the attempts are used up."""
        delay = next(delays, None)
        if delay is None:
            return False
        logger.info("%s; trying again in %.2f s", problem, delay)
        time.sleep(delay)
        return True

    # -- generic resource calls -----------------------------------------------------
    def list(
        self,
        resource: Resource,
        *,
        lastmodified: datetime.datetime | None = None,
        page_size: int = MAX_PAGE_SIZE,
        **params: Any,
    ) -> Iterator[dict]:
        """Every list item of `resource`, page after page (items are subsets of the record:
        ``get`` the full one). `params` are Fortnox's lower-case query parameters, e.g.
        ``filter="unpaid"``, ``customernumber="10"``, ``sortby="customernumber"``."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        query = {key: value for key, value in params.items() if value is not None}
        if lastmodified is not None:
            query["lastmodified"] = format_lastmodified(lastmodified)
        page = 1
        while True:
            document = self.request(
                "GET", resource.path, params={**query, "page": page, "limit": page_size}
            )
            items = document.get(resource.plural) or []
            yield from items
            total_pages = int(document.get("MetaInformation", {}).get("@TotalPages", 0))
            if page >= total_pages or not items:
                return
            page += 1

    def get(self, resource: Resource, key: str) -> dict:
        document = self.request("GET", f"{resource.path}/{quote(str(key), safe='')}")
        return document[resource.single]

    def find(self, resource: Resource, key: str) -> dict | None:
        """The record, or None when Fortnox has none with that key."""
        try:
            return self.get(resource, key)
        except NotFound:
            return None

    def create(self, resource: Resource, record: dict) -> dict:
        document = self.request("POST", resource.path, body={resource.single: record})
        return document[resource.single]

    def update(self, resource: Resource, key: str, changes: dict) -> dict:
        document = self.request(
            "PUT", f"{resource.path}/{quote(str(key), safe='')}", body={resource.single: changes}
        )
        return document[resource.single]

    def delete(self, resource: Resource, key: str) -> None:
        self.request("DELETE", f"{resource.path}/{quote(str(key), safe='')}")

    def action(self, resource: Resource, key: str, action: str, *, method: str = "PUT") -> dict:
        """An action on one record, e.g. ``PUT invoices/12/bookkeep``. Always a write."""
        document = self.request(
            method, f"{resource.path}/{quote(str(key), safe='')}/{action}", is_write=True
        )
        return document[resource.single]

    # -- named calls ----------------------------------------------------------------
    def list_customers(self, **options: Any) -> Iterator[dict]:
        return self.list(CUSTOMERS, **options)

    def get_customer(self, customer_number: str) -> dict:
        return self.get(CUSTOMERS, customer_number)

    def create_customer(self, customer: dict) -> dict:
        return self.create(CUSTOMERS, customer)

    def update_customer(self, customer_number: str, changes: dict) -> dict:
        return self.update(CUSTOMERS, customer_number, changes)

    def list_articles(self, **options: Any) -> Iterator[dict]:
        return self.list(ARTICLES, **options)

    def get_article(self, article_number: str) -> dict:
        return self.get(ARTICLES, article_number)

    def create_article(self, article: dict) -> dict:
        return self.create(ARTICLES, article)

    def update_article(self, article_number: str, changes: dict) -> dict:
        return self.update(ARTICLES, article_number, changes)

    def list_units(self, **options: Any) -> Iterator[dict]:
        return self.list(UNITS, **options)

    def create_unit(self, unit: dict) -> dict:
        return self.create(UNITS, unit)

    def list_projects(self, **options: Any) -> Iterator[dict]:
        return self.list(PROJECTS, **options)

    def get_project(self, project_number: str) -> dict:
        return self.get(PROJECTS, project_number)

    def create_project(self, project: dict) -> dict:
        return self.create(PROJECTS, project)

    def update_project(self, project_number: str, changes: dict) -> dict:
        return self.update(PROJECTS, project_number, changes)

    def list_cost_centers(self, **options: Any) -> Iterator[dict]:
        return self.list(COST_CENTERS, **options)

    def create_cost_center(self, cost_center: dict) -> dict:
        return self.create(COST_CENTERS, cost_center)

    def update_cost_center(self, code: str, changes: dict) -> dict:
        return self.update(COST_CENTERS, code, changes)

    def list_invoices(self, **options: Any) -> Iterator[dict]:
        return self.list(INVOICES, **options)

    def get_invoice(self, document_number: str) -> dict:
        return self.get(INVOICES, document_number)

    def create_invoice(self, invoice: dict) -> dict:
        return self.create(INVOICES, invoice)

    def update_invoice(self, document_number: str, changes: dict) -> dict:
        return self.update(INVOICES, document_number, changes)

    def find_invoices_by_reference(self, reference: str) -> list[dict]:
        """Invoices whose ExternalInvoiceReference1 is exactly `reference` (Fortnox searches
        with ILIKE %value%, so the exact match is checked here)."""
        return [
            item
            for item in self.list(INVOICES, externalinvoicereference1=reference)
            if item.get("ExternalInvoiceReference1") == reference
        ]

    def bookkeep_invoice(self, document_number: str) -> dict:
        return self.action(INVOICES, document_number, "bookkeep")

    def cancel_invoice(self, document_number: str) -> dict:
        return self.action(INVOICES, document_number, "cancel")

    def mark_invoice_sent(self, document_number: str) -> dict:
        """Set the invoice as sent without sending it (``externalprint``)."""
        return self.action(INVOICES, document_number, "externalprint")

    def email_invoice(self, document_number: str) -> dict:
        """Fortnox e-mails the invoice (a GET with an effect: never retried blindly)."""
        return self.action(INVOICES, document_number, "email", method="GET")

    def list_invoice_payments(self, **options: Any) -> Iterator[dict]:
        return self.list(INVOICE_PAYMENTS, **options)

    def create_invoice_payment(self, payment: dict) -> dict:
        return self.create(INVOICE_PAYMENTS, payment)

    def list_supplier_invoices(self, **options: Any) -> Iterator[dict]:
        return self.list(SUPPLIER_INVOICES, **options)

    def get_supplier_invoice(self, given_number: str) -> dict:
        return self.get(SUPPLIER_INVOICES, given_number)

    # -- files ----------------------------------------------------------------------
    def inbox_upload(self, file_name: str, content: bytes, content_type: str) -> dict:
        """Upload a file to the company's inbox (``POST /3/inbox``, multipart); the file,
        with its ``Id``/``ArchiveFileId``."""
        document = self.request("POST", "inbox", files={"file": (file_name, content, content_type)})
        return document["File"]

    def attachment_connect(
        self, *, entity_id: str, file_id: str, entity_type: str = "F", include_on_send: bool = True
    ) -> dict:
        """Attach an uploaded file to a record (``F``: a customer invoice); the attachment."""
        document = self.request(
            "POST",
            ATTACHMENTS_PATH,
            body=[
                {
                    "entityId": int(entity_id),
                    "entityType": entity_type,
                    "fileId": file_id,
                    "includeOnSend": include_on_send,
                }
            ],
        )
        return document[0]

    def attachments_of(self, entity_id: str, *, entity_type: str = "F") -> list[dict]:
        return (
            self.request(
                "GET", ATTACHMENTS_PATH, params={"entitytype": entity_type, "entityid": entity_id}
            )
            or []
        )
