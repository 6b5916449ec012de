"""The fake eEkonomi itself, without HTTP: ``EAccountingFake.handle(FakeRequest)``.

State is per company: every token belongs to one client id and one company. The rate limit
counts per client id and endpoint (the first path segment under ``/v2``).
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import math
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from integrations.eaccounting.fake.resources import (
    CODINGS,
    COST_CENTER_ITEM_FIELDS,
    RESOURCES,
    TERMS_OF_PAYMENT,
    UNITS,
    VAT_CODES,
    Field,
    Resource,
)
from integrations.fakes import (
    FAULT_KINDS,
    WRITE_METHODS,
    FakeRequest,
    FakeResponse,
    Faults,
    LoggedRequest,
    ScriptedFault,
    fault_draw,
    most_in_window,
)

RATE_LIMIT = 600
RATE_WINDOW = 60.0
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
CODE_SECONDS = 5 * 60
ACCESS_TOKEN_SECONDS = 60 * 60
DEFAULT_CLIENT_ID = "fake-eaccounting-client"
DEFAULT_CLIENT_SECRET = "fake-eaccounting-secret"  # noqa: S105 (the fake's own credential)
DEFAULT_COMPANY = "company-1"
ALL_SCOPES = "ea:api offline_access ea:sales ea:accounting ea:purchase"
API_PREFIX = "/v2/"
# ErrorCodes the fake answers with.
BAD_REQUEST = 4000
NO_MODULE = 4002
NOT_FOUND = 4004
DUPLICATE = 4005
UNAUTHORISED = 4001
QUOTA = 4010
SERVER_ERROR = 5000


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, errors: list | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or []

    def response(self) -> FakeResponse:
        return FakeResponse(
            self.status,
            {
                "ErrorCode": self.code,
                "DeveloperErrorMessage": self.message,
                "ErrorId": str(uuid.uuid4()),
                "Errors": self.errors,
            },
        )


def _invalid(prop: str, message: str) -> ApiError:
    return ApiError(
        400,
        BAD_REQUEST,
        "ValidationException - The request is invalid.",
        [{"Property": prop, "ErrorCode": BAD_REQUEST, "ErrorMessage": message}],
    )


@dataclass
class Token:
    value: str
    client_id: str
    company_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class Company:
    company_id: str
    records: dict[str, dict[str, dict]] = field(
        default_factory=lambda: {path: {} for path in RESOURCES}
    )
    # The API module ("api_standard"): without it every call answers 403, ErrorCode 4002.
    api_module: bool = True
    # Resource paths whose module the company lacks (403, ErrorCode 4002, that module).
    unlicensed: set[str] = field(default_factory=set)
    next_invoice_number: int = 1001
    next_customer_number: int = 1


class EAccountingFake:
    def __init__(
        self,
        *,
        seed: int = 0,
        base_url: str = "http://127.0.0.1",
        clients: dict[str, str] | None = None,
        rate_limit: int = RATE_LIMIT,
        rate_window: float = RATE_WINDOW,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clients = dict(clients or {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.seed = seed
        self.faults = Faults()
        self._lock = threading.RLock()
        self.reset()

    # ------------------------------------------------------------------ test helpers
    def reset(self) -> None:
        with self._lock:
            self.rng = random.Random(self.seed)  # noqa: S311 (deterministic fault draws)
            self.companies: dict[str, Company] = {}
            self.codes: dict[str, dict] = {}
            self.access_tokens: dict[str, Token] = {}
            self.refresh_tokens: dict[str, Token] = {}
            self.spent_refresh_tokens: set[str] = set()
            self.scripted: list[ScriptedFault] = []
            self.log: list[LoggedRequest] = []
            self._admitted: dict[tuple[str, str], list[float]] = {}

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    @staticmethod
    def now() -> datetime.datetime:
        return datetime.datetime.now(tz=datetime.UTC)

    def stamp(self) -> str:
        return self.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def company(self, company_id: str = DEFAULT_COMPANY) -> Company:
        with self._lock:
            if company_id not in self.companies:
                company = Company(company_id)
                self._preset(company)
                self.companies[company_id] = company
            return self.companies[company_id]

    def _preset(self, company: Company) -> None:
        records = company.records
        for code, name, abbreviation in UNITS:
            unit_id = self._id()
            records["units"][unit_id] = {
                "Id": unit_id,
                "Code": code,
                "Name": name,
                "Abbreviation": abbreviation,
                "AbbreviationEnglish": abbreviation,
            }
        for name, kind, rate in CODINGS:
            coding_id = self._id()
            records["articleaccountcodings"][coding_id] = {
                "Id": coding_id,
                "Name": name,
                "NameEnglish": name,
                "Type": kind,
                "VatRate": f"{rate}%",
                "VatRatePercent": rate / 100,
                "IsActive": True,
                "ChangedUtc": self.stamp(),
            }
        for code, description, rate in VAT_CODES:
            vat_id = self._id()
            records["vatcodes"][vat_id] = {
                "Id": vat_id,
                "Code": code,
                "Description": description,
                "VatRate": rate / 100,
                "RelatedAccounts": {},
            }
        for name, days in TERMS_OF_PAYMENT:
            terms_id = self._id()
            records["termsofpayment"][terms_id] = {
                "Id": terms_id,
                "Name": name,
                "NameEnglish": name,
                "NumberOfDays": days,
                "TermsOfPaymentTypeId": 1,
                "TermsOfPaymentTypeText": "Normal",
                "AvailableForSales": True,
                "AvailableForPurchase": True,
            }
        for number in (1, 2, 3):
            center_id = self._id()
            records["costcenters"][center_id] = {
                "Id": center_id,
                "Name": f"Kostnadsställe {number}",
                "Number": number,
                "IsActive": number == 1,
                "Items": [],
            }

    def issue_code(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        redirect_uri: str = "http://127.0.0.1/callback",
        scope: str = ALL_SCOPES,
        company_id: str = DEFAULT_COMPANY,
    ) -> str:
        """An authorization code as if a user of `company_id` approved the consent page."""
        with self._lock:
            code = self._id()
            self.codes[code] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scopes": frozenset(scope.split()),
                "company_id": company_id,
                "expires_at": time.time() + CODE_SECONDS,
            }
            self.company(company_id)
            return code

    def remove_api_module(self, company_id: str = DEFAULT_COMPANY) -> None:
        self.company(company_id).api_module = False

    def add_api_module(self, company_id: str = DEFAULT_COMPANY) -> None:
        self.company(company_id).api_module = True

    def unlicense(self, path: str, company_id: str = DEFAULT_COMPANY) -> None:
        with self._lock:
            self.company(company_id).unlicensed.add(path)

    def license(self, path: str, company_id: str = DEFAULT_COMPANY) -> None:
        with self._lock:
            self.company(company_id).unlicensed.discard(path)

    def expire_access_tokens(self) -> None:
        with self._lock:
            for token in self.access_tokens.values():
                token.expires_at = time.time() - 1

    def inject(
        self,
        kind: str,
        *,
        count: int = 1,
        method: str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            self.scripted.append(ScriptedFault(kind, count, method, path_prefix))

    def requests(self, *, method: str | None = None, path_prefix: str | None = None):
        with self._lock:
            return [
                entry
                for entry in self.log
                if entry.path.startswith(path_prefix or API_PREFIX)
                and (method is None or entry.method == method)
            ]

    def max_in_window(self, *, window: float | None = None) -> int:
        """The most requests of one client to one endpoint in any window."""
        window = self.rate_window if window is None else window
        by_endpoint: dict[tuple[str | None, str], list[float]] = {}
        for entry in self.requests():
            by_endpoint.setdefault((entry.client_id, _endpoint(entry.path)), []).append(entry.at)
        return max((most_in_window(times, window) for times in by_endpoint.values()), default=0)

    # What eEkonomi's users do in its own screens ------------------------------------
    def book_draft(
        self,
        draft_id: str,
        *,
        company_id: str = DEFAULT_COMPANY,
        invoice_date: datetime.date | None = None,
    ) -> dict:
        """A user books the draft: it becomes a customer invoice with the next number."""
        with self._lock:
            return self._convert(self.company(company_id), draft_id, invoice_date)

    def mark_paid(
        self, invoice_id: str, *, company_id: str = DEFAULT_COMPANY, on: datetime.date | None = None
    ) -> dict:
        with self._lock:
            invoice = self.company(company_id).records["customerinvoices"][invoice_id]
            invoice.update(
                {
                    "RemainingAmount": 0,
                    "RemainingAmountInvoiceCurrency": 0,
                    "PaymentStatus": 0,
                    "PaymentDate": (on or self.now().date()).isoformat() + "T00:00:00",
                    "ModifiedUtc": self.stamp(),
                }
            )
            return invoice

    def delete_draft(self, draft_id: str, *, company_id: str = DEFAULT_COMPANY) -> None:
        with self._lock:
            del self.company(company_id).records["customerinvoicedrafts"][draft_id]

    def credit_invoice(self, invoice_id: str, *, company_id: str = DEFAULT_COMPANY) -> dict:
        """A user credits the invoice (to book it again under another number)."""
        with self._lock:
            company = self.company(company_id)
            invoice = company.records["customerinvoices"][invoice_id]
            credit = {
                **invoice,
                "Id": self._id(),
                "InvoiceNumber": company.next_invoice_number,
                "IsCreditInvoice": True,
                "ReferringInvoiceId": invoice_id,
                "CreatedFromDraftId": None,
                "TotalAmount": -Decimal(str(invoice["TotalAmount"])),
                "CreditedBy": [],
                "ModifiedUtc": self.stamp(),
            }
            company.next_invoice_number += 1
            company.records["customerinvoices"][credit["Id"]] = credit
            invoice["CreditedBy"] = [{"CreditInvoiceId": credit["Id"]}]
            invoice["RemainingAmount"] = 0
            invoice["ModifiedUtc"] = self.stamp()
            return credit

    def add_supplier_invoice(self, *, rows: list[dict], company_id: str = DEFAULT_COMPANY) -> dict:
        """A booked supplier invoice with `rows` (AccountNumber, DebetAmount, ProjectId, …)."""
        with self._lock:
            company = self.company(company_id)
            invoice_id = self._id()
            invoice = {
                "Id": invoice_id,
                "SupplierId": self._id(),
                "SupplierName": "Leverantör AB",
                "SupplierNumber": "1",
                "InvoiceNumber": str(len(company.records["supplierinvoices"]) + 1),
                "InvoiceDate": self.now().date().isoformat(),
                "TotalAmount": sum(Decimal(str(row.get("DebetAmount", 0))) for row in rows),
                "Status": 1,
                "PaymentStatus": 3,
                "Rows": [
                    {"Id": self._id(), "LineNumber": index, "CreditAmount": 0, **row}
                    for index, row in enumerate(rows, start=1)
                ],
                "ModifiedUtc": self.stamp(),
            }
            company.records["supplierinvoices"][invoice_id] = invoice
            return invoice

    # ------------------------------------------------------------------ dispatch
    def handle(self, request: FakeRequest) -> FakeResponse:
        parts = urlsplit(request.target)
        path = parts.path
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        if path.startswith("/connect/"):
            response = self._identity(request, path, query)
            with self._lock:
                self.log.append(
                    LoggedRequest(
                        at=time.monotonic(),
                        wall_at=time.time(),
                        method=request.method,
                        path=path,
                        query="",
                        token=None,
                        client_id=None,
                        tenant_id=None,
                        status=response.status,
                    )
                )
            return response
        entry = LoggedRequest(
            at=time.monotonic(),
            wall_at=time.time(),
            method=request.method,
            path=path,
            query=parts.query,
            token=None,
            client_id=None,
            tenant_id=None,
        )
        with self._lock:
            self.log.append(entry)
        try:
            response = self._api(request, entry, path, query)
        except ApiError as error:
            response = error.response()
        entry.status = 0 if response.drop_connection else response.status
        return response

    def _api(self, request: FakeRequest, entry: LoggedRequest, path: str, query: dict):
        if not path.startswith(API_PREFIX):
            raise ApiError(404, NOT_FOUND, "Not found")
        authorization = request.headers.get("authorization", "")
        value = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
        with self._lock:
            token = self.access_tokens.get(value)
            if token is None or token.expires_at <= time.time():
                raise ApiError(401, UNAUTHORISED, "Unauthorized - the access token is not valid")
            entry.token, entry.client_id, entry.tenant_id = value, token.client_id, token.company_id
            limited = self._rate_limited(token.client_id, _endpoint(path))
            if limited is not None:
                return limited
            fault = fault_draw(self.faults, self.scripted, self.rng, request.method, path)
        entry.fault = fault
        if fault == "429":
            return self._too_many(1)
        if fault == "error_500":
            return ApiError(500, SERVER_ERROR, "Internal server error").response()
        if fault == "late_commit":
            time.sleep(self.faults.late_commit_seconds)
        try:
            response = self._route(request, token, path, query)
        except ApiError as error:
            response = error.response()
        if fault == "timeout":
            response.delay = self.faults.timeout_seconds
        elif fault in ("lost_response", "lost_response_500"):
            if fault == "lost_response_500":
                return ApiError(500, SERVER_ERROR, "Internal server error").response()
            return FakeResponse(0, drop_connection=True)
        return response

    def _rate_limited(self, client_id: str, endpoint: str) -> FakeResponse | None:
        now = time.monotonic()
        admitted = self._admitted.setdefault((client_id, endpoint), [])
        while admitted and admitted[0] <= now - self.rate_window:
            admitted.pop(0)
        if len(admitted) >= self.rate_limit:
            return self._too_many(admitted[0] + self.rate_window - now)
        admitted.append(now)
        return None

    def _too_many(self, wait: float) -> FakeResponse:
        seconds = max(1, math.ceil(wait))
        return ApiError(
            429,
            QUOTA,
            f"API calls quota exceeded! maximum admitted {self.rate_limit} per Minute. "
            f"Try again in {seconds} seconds.",
        ).response()

    # ------------------------------------------------------------------ identity server
    def _client_of(self, request: FakeRequest) -> str | None:
        authorization = request.headers.get("authorization", "")
        if not authorization.lower().startswith("basic "):
            return None
        try:
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        except ValueError:
            return None
        return client_id if self.clients.get(client_id) == secret else None

    def _identity(self, request: FakeRequest, path: str, query: dict) -> FakeResponse:
        if path == "/connect/authorize":
            return self._consent(request, query)
        if request.method != "POST":
            return FakeResponse(405, {"error": "invalid_request"})
        form = {key: values[-1] for key, values in parse_qs(request.body.decode()).items()}
        client_id = self._client_of(request)
        if client_id is None:
            return FakeResponse(401, {"error": "invalid_client"})
        with self._lock:
            if path == "/connect/revocation":
                self.refresh_tokens.pop(form.get("token", ""), None)
                return FakeResponse(200, b"")
            if path != "/connect/token":
                return FakeResponse(404, {"error": "not_found"})
            grant = form.get("grant_type")
            if grant == "authorization_code":
                code = self.codes.pop(form.get("code", ""), None)
                if (
                    code is None
                    or code["client_id"] != client_id
                    or code["redirect_uri"] != form.get("redirect_uri")
                    or code["expires_at"] < time.time()
                ):
                    return FakeResponse(400, {"error": "invalid_grant"})
                return FakeResponse(
                    200, self._tokens(client_id, code["company_id"], code["scopes"])
                )
            if grant == "refresh_token":
                old = form.get("refresh_token", "")
                token = self.refresh_tokens.pop(old, None)
                if token is None or token.client_id != client_id:
                    # Single use: a spent refresh token is refused like an unknown one.
                    return FakeResponse(400, {"error": "invalid_grant"})
                self.spent_refresh_tokens.add(old)
                return FakeResponse(200, self._tokens(client_id, token.company_id, token.scopes))
            return FakeResponse(400, {"error": "unsupported_grant_type"})

    def _tokens(self, client_id: str, company_id: str, scopes: frozenset[str]) -> dict:
        access = Token(
            self._id(), client_id, company_id, scopes, time.time() + ACCESS_TOKEN_SECONDS
        )
        self.access_tokens[access.value] = access
        document = {
            "access_token": access.value,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": " ".join(sorted(scopes)),
        }
        if "offline_access" in scopes:
            refresh = Token(self._id(), client_id, company_id, scopes, math.inf)
            self.refresh_tokens[refresh.value] = refresh
            document["refresh_token"] = refresh.value
        return document

    def _consent(self, request: FakeRequest, query: dict) -> FakeResponse:
        """GET: the consent page (sign in, pick the company); POST: approved, back to the
        client with a code."""
        if request.method == "POST":
            query = {
                **query,
                **{key: values[-1] for key, values in parse_qs(request.body.decode()).items()},
            }
        client_id = query.get("client_id", "")
        redirect_uri = query.get("redirect_uri", "")
        if (
            client_id not in self.clients
            or not redirect_uri
            or query.get("response_type") != "code"
        ):
            return FakeResponse(400, b"invalid_request")
        if request.method == "GET":
            fields = "".join(
                f'<input type="hidden" name="{html.escape(key)}" value="{html.escape(value)}">'
                for key, value in query.items()
            )
            page = (
                "<html><body><h1>Visma eEkonomi</h1><form method='post'>"
                f"{fields}<label>Company <input name='company' value='{DEFAULT_COMPANY}'></label>"
                "<button name='approve' value='yes'>Approve</button></form></body></html>"
            )
            return FakeResponse(200, page.encode(), {"Content-Type": "text/html"})
        code = self.issue_code(
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=query.get("scope", ALL_SCOPES),
            company_id=query.get("company") or DEFAULT_COMPANY,
        )
        target = redirect_uri + "?" + urlencode({"code": code, "state": query.get("state", "")})
        return FakeResponse(302, b"", {"Location": target})

    # ------------------------------------------------------------------ resources
    def _route(self, request: FakeRequest, token: Token, path: str, query: dict) -> FakeResponse:
        segments = [segment for segment in path[len(API_PREFIX) :].split("/") if segment]
        company = self.company(token.company_id)
        if not company.api_module:
            raise ApiError(
                403, NO_MODULE, "ForbiddenRequestException - No access to module: api_standard"
            )
        if not segments or segments[0] not in RESOURCES:
            raise ApiError(404, NOT_FOUND, "Not found")
        resource = RESOURCES[segments[0]]
        if resource.scope not in token.scopes or "ea:api" not in token.scopes:
            raise ApiError(403, 4003, f"Forbidden - the token lacks the scope {resource.scope}")
        if resource.path in company.unlicensed:
            raise ApiError(
                403,
                NO_MODULE,
                f"ForbiddenRequestException - No access to module: {resource.path}",
            )
        method = request.method
        with self._lock:
            records = company.records[resource.path]
            if len(segments) == 1 and method == "GET":
                return FakeResponse(200, self._list(resource, records, query))
            if len(segments) == 1 and method == "POST" and resource.writable:
                payload = self._payload(request, resource)
                return FakeResponse(201, self._create(company, resource, payload))
            if len(segments) == 2:
                record_id = segments[1]
                if record_id not in records:
                    raise ApiError(404, NOT_FOUND, f"{resource.path} {record_id} not found")
                if method == "GET":
                    return FakeResponse(200, records[record_id])
                if method == "PUT" and resource.writable:
                    payload = self._payload(request, resource)
                    return FakeResponse(
                        200, self._replace(company, resource, records[record_id], payload)
                    )
                if method == "DELETE" and resource.deletable:
                    del records[record_id]
                    return FakeResponse(204, b"")
            if (
                len(segments) == 3
                and resource.path == "customerinvoicedrafts"
                and segments[2] == "convert"
                and method == "POST"
            ):
                return FakeResponse(200, self._convert(company, segments[1], None))
        raise ApiError(405, BAD_REQUEST, "The requested resource does not support this method")

    def _payload(self, request: FakeRequest, resource: Resource) -> dict:
        if "json" not in request.headers.get("content-type", ""):
            raise ApiError(415, BAD_REQUEST, "Unsupported media type")
        try:
            document = json.loads(request.body or b"null", parse_float=Decimal)
        except ValueError:
            raise ApiError(400, BAD_REQUEST, "The request body is not valid JSON") from None
        if not isinstance(document, dict):
            raise ApiError(400, BAD_REQUEST, "The request body must be an object")
        return document

    def _clean(self, company: Company, fields: dict[str, Field], payload: dict, prop: str = ""):
        """The writable fields of `payload`; unknown fields, missing required ones, too long
        values and ids of missing records are refused."""
        clean: dict[str, Any] = {}
        for name, value in payload.items():
            spec = fields.get(name)
            if spec is None:
                raise _invalid(prop + name, f"The property {name} does not exist.")
            if spec.read_only:
                continue  # read-only values sent back are ignored
            if value is None:
                clean[name] = None
                continue
            if spec.kind == "str" and not isinstance(value, str):
                raise _invalid(prop + name, "A text is expected.")
            if spec.kind == "str" and spec.max is not None and len(value) > spec.max:
                raise _invalid(prop + name, f"At most {spec.max} characters.")
            if spec.kind == "bool" and not isinstance(value, bool):
                raise _invalid(prop + name, "true or false is expected.")
            if spec.kind in ("int", "num") and (
                isinstance(value, bool) or not isinstance(value, int | Decimal | float)
            ):
                raise _invalid(prop + name, "A number is expected.")
            if spec.kind == "uuid":
                try:
                    uuid.UUID(str(value))
                except ValueError:
                    raise _invalid(prop + name, "A GUID is expected.") from None
                if spec.refers_to and not self._exists(company, spec.refers_to, str(value)):
                    raise _invalid(prop + name, f"{spec.refers_to} {value} does not exist.")
            if spec.kind == "datetime":
                try:
                    datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
                except ValueError:
                    raise _invalid(prop + name, "A date is expected.") from None
            clean[name] = value
        for name, spec in fields.items():
            if spec.required and clean.get(name) in (None, ""):
                raise _invalid(prop + name, f"{name} is required.")
        return clean

    @staticmethod
    def _exists(company: Company, path: str, record_id: str) -> bool:
        if path == "costcenteritems":
            return any(
                item["Id"] == record_id
                for center in company.records["costcenters"].values()
                for item in center["Items"]
            )
        return record_id in company.records[path]

    def _check_unique(self, company: Company, resource: Resource, record: dict) -> None:
        for name in resource.unique:
            value = record.get(name)
            for other in company.records[resource.path].values():
                if other["Id"] != record.get("Id") and value and other.get(name) == value:
                    raise ApiError(400, DUPLICATE, f"{name} {value} is already in use.", [])

    def _create(self, company: Company, resource: Resource, payload: dict) -> dict:
        if resource.path == "costcenteritems":
            return self._create_item(company, payload)
        if resource.path == "costcenters":
            raise ApiError(405, BAD_REQUEST, "Cost centres are set up in eEkonomi")
        record = self._clean(company, resource.fields, payload)
        record = {name: None for name in resource.fields} | record
        record["Id"] = self._id()
        if resource.path == "customers" and not record.get("CustomerNumber"):
            record["CustomerNumber"] = str(company.next_customer_number)
            company.next_customer_number += 1
        if resource.rows:
            record["Rows"] = self._rows(company, resource, record.get("Rows") or [])
        self._check_unique(company, resource, record)
        self._derive(company, resource, record)
        if "CreatedUtc" in resource.fields:
            record["CreatedUtc"] = self.stamp()
        if resource.stamp:
            record[resource.stamp] = self.stamp()
        company.records[resource.path][record["Id"]] = record
        return record

    def _replace(self, company: Company, resource: Resource, current: dict, payload: dict):
        if resource.path == "costcenteritems":
            raise ApiError(405, BAD_REQUEST, "Use the item's id")
        record = self._clean(company, resource.fields, payload)
        # PUT replaces the record: what is not sent is emptied (read-only values stay).
        replaced = {
            name: (current.get(name) if spec.read_only else record.get(name))
            for name, spec in resource.fields.items()
        }
        if resource.rows:
            replaced["Rows"] = self._rows(company, resource, record.get("Rows") or [])
        if resource.path == "customers" and not replaced.get("CustomerNumber"):
            replaced["CustomerNumber"] = current.get("CustomerNumber")
        self._check_unique(company, resource, replaced)
        self._derive(company, resource, replaced)
        if resource.stamp:
            replaced[resource.stamp] = self.stamp()
        current.clear()
        current.update(replaced)
        return current

    def _rows(self, company: Company, resource: Resource, rows: Any) -> list[dict]:
        if not isinstance(rows, list):
            raise _invalid("Rows", "A list is expected.")
        clean_rows = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise _invalid(f"Rows[{index}]", "An object is expected.")
            clean = self._clean(company, resource.rows, row, prop=f"Rows[{index}].")
            if not clean.get("IsTextRow") and not clean.get("ArticleId"):
                raise _invalid(f"Rows[{index}].ArticleId", "ArticleId is required.")
            clean = {name: None for name in resource.rows} | clean
            clean["Id"] = self._id()
            clean["LineNumber"] = clean.get("LineNumber") or index
            article = company.records["articles"].get(clean.get("ArticleId") or "")
            if article is not None:
                clean["ArticleNumber"] = article["Number"]
                clean["UnitId"] = clean.get("UnitId") or article["UnitId"]
            clean_rows.append(clean)
        return clean_rows

    def _derive(self, company: Company, resource: Resource, record: dict) -> None:
        """The read-only values the API computes."""
        records = company.records
        if resource.path == "articles":
            unit = records["units"][record["UnitId"]]
            coding = records["articleaccountcodings"][record["CodingId"]]
            record.update(
                UnitName=unit["Name"],
                UnitAbbreviation=unit["Abbreviation"],
                CodingName=coding["Name"],
            )
        elif resource.path == "customers":
            terms = records["termsofpayment"][record["TermsOfPaymentId"]]
            record["TermsOfPayment"] = terms
        elif resource.path == "projects":
            customer = records["customers"].get(record.get("CustomerId") or "")
            record["CustomerName"] = customer["Name"] if customer else None
            record["Status"] = record.get("Status") or 1
            if record["Status"] not in (1, 2):
                raise _invalid("Status", "1 (ongoing) or 2 (finished).")
        elif resource.path == "customerinvoicedrafts":
            customer = records["customers"][record["CustomerId"]]
            record["CustomerNumber"] = customer["CustomerNumber"]
            record["CustomerName"] = customer["Name"]
            net = vat = Decimal(0)
            for row in record["Rows"]:
                if row.get("IsTextRow"):
                    continue
                amount = Decimal(str(row.get("UnitPrice") or 0)) * Decimal(
                    str(row.get("Quantity") or 0)
                )
                rate = Decimal(0)
                if row.get("VatRateId"):
                    rate = Decimal(str(records["vatcodes"][row["VatRateId"]]["VatRate"]))
                net += amount
                vat += (amount * rate).quantize(Decimal("0.01"))
            record["TotalAmount"] = net + vat
            record["TotalVatAmount"] = vat
            record["TotalRoundings"] = Decimal(0)

    def _create_item(self, company: Company, payload: dict) -> dict:
        item = self._clean(company, COST_CENTER_ITEM_FIELDS, payload)
        center = company.records["costcenters"][item["CostCenterId"]]
        if not center["IsActive"]:
            raise _invalid("CostCenterId", "The cost centre is not active.")
        if any(other["ShortName"] == item["ShortName"] for other in center["Items"]):
            raise ApiError(400, DUPLICATE, f"ShortName {item['ShortName']} is already in use.")
        item["Id"] = self._id()
        item["CreatedUtc"] = self.stamp()
        center["Items"].append(item)
        return item

    def _convert(self, company: Company, draft_id: str, invoice_date: datetime.date | None) -> dict:
        draft = company.records["customerinvoicedrafts"].pop(draft_id, None)
        if draft is None:
            raise ApiError(404, NOT_FOUND, f"customerinvoicedrafts {draft_id} not found")
        day = invoice_date or self.now().date()
        invoice = {
            "Id": self._id(),
            "InvoiceNumber": company.next_invoice_number,
            "CustomerId": draft["CustomerId"],
            "CustomerNumber": draft["CustomerNumber"],
            "CustomerName": draft["CustomerName"],
            "Rows": draft["Rows"],
            "InvoiceDate": day.isoformat() + "T00:00:00",
            "DueDate": (day + datetime.timedelta(days=30)).isoformat() + "T00:00:00",
            "TotalAmount": draft["TotalAmount"],
            "TotalVatAmount": draft["TotalVatAmount"],
            "RemainingAmount": draft["TotalAmount"],
            "PaymentStatus": 1,
            "PaymentDate": None,
            "IsCreditInvoice": bool(draft.get("IsCreditInvoice")),
            "CreditedBy": [],
            "CreatedFromDraftId": draft_id,
            "YourReference": draft.get("YourReference"),
            "OurReference": draft.get("OurReference"),
            "BuyersOrderReference": draft.get("BuyersOrderReference"),
            "EuThirdParty": draft["EuThirdParty"],
            "RotReducedInvoicingType": draft["RotReducedInvoicingType"],
            "CreatedUtc": self.stamp(),
            "ModifiedUtc": self.stamp(),
        }
        company.next_invoice_number += 1
        company.records["customerinvoices"][invoice["Id"]] = invoice
        return invoice

    # ------------------------------------------------------------------ listing
    def _list(self, resource: Resource, records: dict[str, dict], query: dict) -> dict:
        try:
            page = int(query.get("$page", 1))
            size = int(query.get("$pagesize", DEFAULT_PAGE_SIZE))
        except ValueError:
            raise ApiError(400, BAD_REQUEST, "$page and $pagesize are numbers") from None
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            raise ApiError(400, BAD_REQUEST, f"$pagesize is 1..{MAX_PAGE_SIZE}")
        items = list(records.values())
        if query.get("$filter"):
            test = odata_filter(query["$filter"])
            items = [item for item in items if test(item)]
        total = len(items)
        pages = max(1, math.ceil(total / size))
        data = items[(page - 1) * size : page * size]
        return {
            "Meta": {
                "CurrentPage": page,
                "PageSize": size,
                "TotalNumberOfPages": pages,
                "TotalNumberOfResults": total,
                "ServerTimeUtc": self.stamp(),
            },
            "Data": data,
        }


def _endpoint(path: str) -> str:
    rest = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path.strip("/")
    return rest.strip("/").split("/", 1)[0].lower()


_OPERATORS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and a > b,
    "ge": lambda a, b: a is not None and a >= b,
    "lt": lambda a, b: a is not None and a < b,
    "le": lambda a, b: a is not None and a <= b,
}


def _literal(text: str) -> Any:
    text = text.strip()
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return Decimal(text)
    except ArithmeticError:
        pass
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ApiError(400, BAD_REQUEST, f"Invalid $filter literal {text}") from None


def _comparable(value: Any, literal: Any) -> Any:
    if isinstance(literal, datetime.datetime) and isinstance(value, str):
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
    if isinstance(literal, Decimal) and value is not None and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def odata_filter(expression: str):
    """A predicate for the subset of OData the API's filters use: ``Field op literal``
    joined by ``and`` (eq, ne, gt, ge, lt, le; strings in quotes, datetimes bare)."""
    tests = []
    for clause in expression.split(" and "):
        parts = clause.strip().split(" ", 2)
        if len(parts) != 3 or parts[1] not in _OPERATORS:
            raise ApiError(400, BAD_REQUEST, f"Invalid $filter: {clause}")
        name, operator, literal = parts[0], _OPERATORS[parts[1]], _literal(parts[2])
        if isinstance(literal, datetime.datetime) and literal.tzinfo is None:
            literal = literal.replace(tzinfo=datetime.UTC)
        tests.append((name, operator, literal))

    def test(item: dict) -> bool:
        for name, operator, literal in tests:
            if name not in item:
                raise ApiError(400, BAD_REQUEST, f"Could not find a property named '{name}'")
            if not operator(_comparable(item[name], literal), literal):
                return False
        return True

    return test


__all__ = [
    "ALL_SCOPES",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_COMPANY",
    "WRITE_METHODS",
    "EAccountingFake",
]
