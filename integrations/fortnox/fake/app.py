"""The fake Fortnox itself, without HTTP: ``FortnoxFake.handle(FakeRequest) -> FakeResponse``.

State is per company (tenant id), as at Fortnox: every access token belongs to one client id
and one company, and the rate limit counts per client id and company.
"""

from __future__ import annotations

import base64
import collections
import datetime
import email.parser
import email.policy
import json
import math
import random
import threading
import time
import uuid
import zoneinfo
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from integrations.fakes import (
    FAULT_KINDS,
    FakeRequest,
    FakeResponse,
    Faults,
    LoggedRequest,
    ScriptedFault,
    busiest_window,
    fault_draw,
)
from integrations.fortnox.fake.resources import (
    INVOICES,
    NAMED_FILTERS,
    RESOURCES,
    ApiError,
    Code,
    Resource,
    clean,
    invoice_totals,
    list_item,
    sort_key,
)

RATE_LIMIT = 25
RATE_WINDOW = 5.0
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
CODE_SECONDS = 10 * 60
ACCESS_TOKEN_SECONDS = 60 * 60
REFRESH_TOKEN_SECONDS = 45 * 24 * 60 * 60
STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
DEFAULT_CLIENT_ID = "fake-client-id"
DEFAULT_CLIENT_SECRET = "fake-client-secret"  # noqa: S105 (the fake's own test credential)
DEFAULT_TENANT = "1"
ALL_SCOPES = (
    "companyinformation customer article project costcenter invoice payment supplierinvoice "
    "supplier settings bookkeeping inbox"
)
# The file-attachments API lives beside /3, under /api (its scope is not documented: the
# fake asks for inbox, the scope of the upload).
ATTACHMENTS_PATH = "/api/fileattachments/attachments-v1"
ATTACHMENT_FIELDS = frozenset({"entityId", "entityType", "fileId", "includeOnSend"})
ATTACHMENT_ENTITY_TYPES = {"F": "invoices", "O": "orders", "OF": "offers"}


@dataclass
class Token:
    value: str
    client_id: str
    tenant_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class Company:
    tenant_id: str
    records: dict[str, dict[str, dict]] = field(
        default_factory=lambda: {path: {} for path in RESOURCES}
    )
    modified_at: dict[tuple[str, str], datetime.datetime] = field(default_factory=dict)
    used_keys: dict[str, set[str]] = field(
        default_factory=lambda: collections.defaultdict(set)
    )  # numbers stay reserved after deletion
    counters: dict[str, int] = field(default_factory=lambda: collections.defaultdict(int))
    # Files uploaded to the inbox by id, and attachments connecting them to records.
    files: dict[str, dict] = field(default_factory=dict)
    attachments: dict[str, dict] = field(default_factory=dict)
    # Scopes whose module the company has not licensed (403, code 2001101).
    unlicensed: set[str] = field(default_factory=set)
    name: str = "Fake Company AB"
    organisation_number: str = "556677-8899"


class FortnoxFake:
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
        self.faults = Faults()
        self.seed = seed
        self.time_offset = 0.0  # seconds added to the wall clock (token expiry, lastmodified)
        self._lock = threading.RLock()
        self.reset()

    # ----------------------------------------------------------------- test helpers
    def reset(self) -> None:
        with self._lock:
            self.rng = random.Random(self.seed)  # noqa: S311 (deterministic fault draws)
            self.companies: dict[str, Company] = {}
            self.codes: dict[str, dict] = {}
            self.access_tokens: dict[str, Token] = {}
            self.refresh_tokens: dict[str, Token] = {}
            self.service_accounts: dict[tuple[str, str], frozenset[str]] = {}
            self.scripted: list[ScriptedFault] = []
            self.log: list[LoggedRequest] = []
            self._admitted: dict[tuple[str, str], collections.deque[float]] = {}
            self.faults = Faults(
                timeout_seconds=self.faults.timeout_seconds,
                late_commit_seconds=self.faults.late_commit_seconds,
                retry_after=self.faults.retry_after,
            )

    def now(self) -> float:
        return time.time() + self.time_offset

    def advance(self, seconds: float) -> None:
        """Move the fake's wall clock (expire codes and tokens) without sleeping."""
        self.time_offset += seconds

    def company(self, tenant_id: str = DEFAULT_TENANT) -> Company:
        with self._lock:
            if tenant_id not in self.companies:
                self.companies[tenant_id] = Company(tenant_id)
            return self.companies[tenant_id]

    def _new_secret(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def issue_code(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        redirect_uri: str = "http://127.0.0.1/callback",
        scope: str = ALL_SCOPES,
        tenant_id: str = DEFAULT_TENANT,
    ) -> str:
        """An authorization code as if a user of `tenant_id` approved the consent page."""
        with self._lock:
            code = self._new_secret()
            self.codes[code] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scopes": frozenset(scope.split()),
                "tenant_id": tenant_id,
                "expires_at": self.now() + CODE_SECONDS,
            }
            self.company(tenant_id)
            return code

    def issue_token(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        scope: str = ALL_SCOPES,
        tenant_id: str = DEFAULT_TENANT,
    ) -> dict:
        """A token response without the OAuth dance (tests of the API calls)."""
        with self._lock:
            return self._tokens(client_id, tenant_id, frozenset(scope.split()), refresh=True)

    def authorize_service_account(
        self, *, client_id: str = DEFAULT_CLIENT_ID, tenant_id: str, scope: str = ALL_SCOPES
    ) -> None:
        """Let `client_id` use the client_credentials grant for `tenant_id`."""
        with self._lock:
            self.service_accounts[(client_id, tenant_id)] = frozenset(scope.split())
            self.company(tenant_id)

    def unlicense(self, scope: str, *, tenant_id: str = DEFAULT_TENANT) -> None:
        """The company has no licence for `scope`'s module: its resources answer 403."""
        with self._lock:
            self.company(tenant_id).unlicensed.add(scope)

    def license(self, scope: str, *, tenant_id: str = DEFAULT_TENANT) -> None:
        with self._lock:
            self.company(tenant_id).unlicensed.discard(scope)

    def expire_access_tokens(self) -> None:
        with self._lock:
            for token in self.access_tokens.values():
                token.expires_at = self.now() - 1

    def inject(
        self,
        kind: str,
        *,
        count: int = 1,
        method: str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """The next `count` API calls matching method/path fail as `kind` (FAULT_KINDS)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(FAULT_KINDS)}")
        with self._lock:
            self.scripted.append(ScriptedFault(kind, count, method, path_prefix))

    def requests(
        self, *, method: str | None = None, path_prefix: str | None = None
    ) -> list[LoggedRequest]:
        """Logged requests; without `path_prefix` every API call (/3 and /api), not OAuth."""
        with self._lock:
            return [
                entry
                for entry in self.log
                if (
                    entry.path.startswith(path_prefix)
                    if path_prefix is not None
                    else entry.path.startswith(("/3/", "/api/"))
                )
                and (method is None or entry.method == method)
            ]

    def max_in_window(
        self, *, window: float | None = None, statuses: Collection[int] | None = None
    ) -> int:
        """The most API requests that arrived in any `window`-second span (per client id
        and company; all of them in practice), counting only `statuses` if given."""
        window = self.rate_window if window is None else window
        return busiest_window(
            [entry.at for entry in self.requests() if statuses is None or entry.status in statuses],
            window,
        )

    # ------------------------------------------------------------------ dispatch
    def handle(self, request: FakeRequest) -> FakeResponse:
        parts = urlsplit(request.target)
        path = parts.path
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        if path.startswith("/_fake/"):
            return self._control(request, path)
        if path.startswith("/oauth-v1/"):
            response = self._oauth(request, path, query)
            with self._lock:
                self.log.append(
                    LoggedRequest(
                        at=time.monotonic(),
                        wall_at=time.time(),
                        method=request.method,
                        path=path,
                        query="",  # the form holds secrets; the query string may too
                        token=None,
                        client_id=self._client(request),
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
            response = FakeResponse(error.status, error.body())
        entry.status = 0 if response.drop_connection else response.status
        return response

    def _api(self, request, entry: LoggedRequest, path: str, query: dict) -> FakeResponse:
        authorization = request.headers.get("authorization", "")
        token_value = (
            authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
        )
        entry.token = token_value or None
        with self._lock:
            token = self.access_tokens.get(token_value)
            if token is None or token.expires_at <= self.now():
                raise ApiError(
                    401,
                    Code.INVALID_LOGIN,
                    "Kan inte logga in, access-token eller client-secret saknas (2).",
                )
            entry.client_id, entry.tenant_id = token.client_id, token.tenant_id
            limited = self._rate_limited(token)
            if limited is not None:
                return limited
            fault = self._draw_fault(request.method, path)
        entry.fault = fault
        if fault == "429":
            return self._too_many(1.0)
        if fault == "error_500":
            return FakeResponse(500, ApiError(500, Code.SYSTEM_EXCEPTION, "Systemfel.").body())
        if fault == "late_commit":
            # Outside the lock: other requests go on, and none sees the write until now.
            time.sleep(self.faults.late_commit_seconds)
        try:
            response = self._route(request, token, path, query)
        except ApiError as error:
            response = FakeResponse(error.status, error.body())
        if fault == "timeout":
            response.delay = self.faults.timeout_seconds
        elif fault == "lost_response":
            return FakeResponse(0, drop_connection=True)
        elif fault == "lost_response_500":
            return FakeResponse(500, ApiError(500, Code.SYSTEM_EXCEPTION, "Systemfel.").body())
        return response

    def _rate_limited(self, token: Token) -> FakeResponse | None:
        """Fortnox: 25 requests in any 5-second sliding window per client id and company.
        Refused requests do not count; the fake counts the requests it serves."""
        now = time.monotonic()
        admitted = self._admitted.setdefault(
            (token.client_id, token.tenant_id), collections.deque()
        )
        while admitted and admitted[0] <= now - self.rate_window:
            admitted.popleft()
        if len(admitted) >= self.rate_limit:
            return self._too_many(admitted[0] + self.rate_window - now)
        admitted.append(now)
        return None

    def _too_many(self, wait: float) -> FakeResponse:
        headers = {}
        if self.faults.retry_after:
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        body = {
            "ErrorInformation": {
                "error": 1,
                "message": "Too Many Requests",
                "code": Code.RATE_LIMITED,
            }
        }
        return FakeResponse(429, body, headers)

    def _draw_fault(self, method: str, path: str) -> str | None:
        return fault_draw(self.scripted, self.faults, self.rng, method, path)

    # ------------------------------------------------------------------ resources
    def _route(self, request: FakeRequest, token: Token, path: str, query: dict) -> FakeResponse:
        segments = [segment for segment in path.split("/") if segment]
        company = self.company(token.tenant_id)
        if path.rstrip("/") == ATTACHMENTS_PATH or path.startswith(ATTACHMENTS_PATH + "/"):
            self._require_scope(token, company, "inbox")
            with self._lock:
                return self._attachments(request, company, path, query)
        if segments == ["3", "inbox"] and request.method == "POST":
            self._require_scope(token, company, "inbox")
            with self._lock:
                return FakeResponse(201, self._inbox_upload(request, company))
        if segments == ["3", "companyinformation"] and request.method == "GET":
            self._require_scope(token, company, "companyinformation")
            return FakeResponse(200, self._company_information(company))
        if len(segments) < 2 or segments[0] != "3" or segments[1] not in RESOURCES:
            raise ApiError(404, Code.NOT_FOUND, "Resursen finns inte.")
        resource = RESOURCES[segments[1]]
        self._require_scope(token, company, resource.scope)
        method = request.method
        with self._lock:
            if len(segments) == 2:
                if method == "GET":
                    return self._list(company, resource, query)
                if method == "POST":
                    payload = self._payload(request, resource)
                    return FakeResponse(201, self._create(company, resource, payload))
            elif len(segments) == 3:
                key = segments[2]
                if method == "GET":
                    return FakeResponse(
                        200, self._envelope(resource, self._get(company, resource, key))
                    )
                if method == "PUT":
                    payload = self._payload(request, resource)
                    return FakeResponse(200, self._update(company, resource, key, payload))
                if method == "DELETE" and resource.path not in ("invoices", "supplierinvoices"):
                    self._get(company, resource, key)
                    del company.records[resource.path][key]
                    return FakeResponse(204, b"")
            elif len(segments) == 4 and segments[3] in resource.actions:
                expected = "GET" if segments[3] == "email" else "PUT"
                if method == expected:
                    return FakeResponse(
                        200, self._action(company, resource, segments[2], segments[3])
                    )
        raise ApiError(405, Code.INVALID_PARAMETER, "Metoden stöds inte.")

    @staticmethod
    def _require_scope(token: Token, company: Company, scope: str) -> None:
        if scope not in token.scopes:
            raise ApiError(403, Code.NO_LICENCE_FOR_SCOPE, f"Saknar behörighet för scope {scope}.")
        if scope in company.unlicensed:
            raise ApiError(
                403,
                Code.NO_LICENCE_FOR_SCOPE,
                f"Det finns ingen aktiv licens för önskat scope ({scope}).",
            )

    def _inbox_upload(self, request: FakeRequest, company: Company) -> dict:
        """``POST /3/inbox``, multipart/form-data with one file."""
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            raise ApiError(415, 1000031, "Ogiltig content-type.")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
        )
        parts = [part for part in message.iter_parts() if part.get_filename()]
        if len(parts) != 1:
            raise ApiError(400, Code.EMPTY_OR_INCORRECT_BODY, "Tom eller felaktig body.")
        part = parts[0]
        content = part.get_payload(decode=True) or b""
        file_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        stored = {
            "@url": f"{self.base_url}/3/inbox/{file_id}",
            "Id": file_id,
            "ArchiveFileId": file_id,
            "Name": part.get_filename(),
            "Path": "inbox_f",
            "Size": len(content),
            "Comments": None,
        }
        company.files[file_id] = {**stored, "content": content}
        return {"File": stored}

    def _attachments(
        self, request: FakeRequest, company: Company, path: str, query: dict
    ) -> FakeResponse:
        if request.method == "GET" and path.rstrip("/") == ATTACHMENTS_PATH:
            entity_type = query.get("entitytype", "")
            entity_id = query.get("entityid", "")
            return FakeResponse(
                200,
                [
                    attachment
                    for attachment in company.attachments.values()
                    if attachment["entityType"] == entity_type
                    and str(attachment["entityId"]) == entity_id
                ],
            )
        if request.method == "POST" and path.rstrip("/") == ATTACHMENTS_PATH:
            try:
                document = json.loads(request.body or b"null", parse_float=Decimal)
            except ValueError:
                raise ApiError(400, Code.JSON_SYNTAX_ERROR, "Felaktig JSON-syntax.") from None
            if not isinstance(document, list) or not document:
                raise ApiError(400, Code.EMPTY_OR_INCORRECT_BODY, "Tom eller felaktig body.")
            made = []
            for item in document:
                unknown = set(item) - ATTACHMENT_FIELDS if isinstance(item, dict) else {"?"}
                if unknown:
                    raise ApiError(
                        400, Code.INVALID_FIELD_NAME, f"Ogiltigt fältnamn ({sorted(unknown)[0]})."
                    )
                records_path = ATTACHMENT_ENTITY_TYPES.get(item.get("entityType"))
                if records_path is None or str(item.get("entityId")) not in company.records.get(
                    records_path, {}
                ):
                    raise ApiError(400, Code.UNKNOWN_REFERENCE, "Posten finns inte.")
                if item.get("fileId") not in company.files:
                    raise ApiError(400, Code.UNKNOWN_REFERENCE, "Filen finns inte.")
                attachment_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
                attachment = {
                    "id": attachment_id,
                    "entityId": int(item["entityId"]),
                    "entityType": item["entityType"],
                    "fileId": item["fileId"],
                    "includeOnSend": bool(item.get("includeOnSend", False)),
                    "name": company.files[item["fileId"]]["Name"],
                }
                company.attachments[attachment_id] = attachment
                made.append(attachment)
            return FakeResponse(200, made)
        if request.method == "DELETE":
            attachment_id = path.rstrip("/").rsplit("/", 1)[-1]
            if company.attachments.pop(attachment_id, None) is None:
                raise ApiError(404, Code.NOT_FOUND, "Bilagan finns inte.")
            return FakeResponse(204, b"")
        raise ApiError(405, Code.INVALID_PARAMETER, "Metoden stöds inte.")

    def _company_information(self, company: Company) -> dict:
        return {
            "CompanyInformation": {
                "CompanyName": company.name,
                "DatabaseNumber": int(company.tenant_id) if company.tenant_id.isdigit() else 0,
                "OrganizationNumber": company.organisation_number,
                "Address": None,
                "City": None,
                "CountryCode": "SE",
                "ZipCode": None,
                "VisitAddress": None,
                "VisitCity": None,
                "VisitCountryCode": None,
                "VisitZipCode": None,
            }
        }

    def _payload(self, request: FakeRequest, resource: Resource) -> Any:
        content_type = request.headers.get("content-type", "")
        if "json" not in content_type:
            raise ApiError(415, 1000031, "Ogiltig content-type.")
        try:
            document = json.loads(request.body or b"null", parse_float=Decimal)
        except ValueError:
            raise ApiError(400, Code.JSON_SYNTAX_ERROR, "Felaktig JSON-syntax.") from None
        if not isinstance(document, dict) or resource.single not in document:
            raise ApiError(400, Code.EMPTY_OR_INCORRECT_BODY, "Tom eller felaktig body.")
        return document[resource.single]

    def _url(self, resource: Resource, key: str) -> str:
        return f"{self.base_url}/3/{resource.path}/{key}"

    def _envelope(self, resource: Resource, record: dict) -> dict:
        return {resource.single: record}

    def _get(self, company: Company, resource: Resource, key: str) -> dict:
        record = company.records[resource.path].get(key)
        if record is None:
            message = (
                "Kan inte hitta kunden."
                if resource.path == "customers"
                else (f"Kan inte hitta {resource.single}.")
            )
            raise ApiError(404, resource.not_found_code, message)
        return record

    def _touch(self, company: Company, resource: Resource, key: str) -> None:
        moment = datetime.datetime.fromtimestamp(self.now(), tz=STOCKHOLM).replace(tzinfo=None)
        company.modified_at[(resource.path, key)] = moment

    def _check_references(self, company: Company, resource: Resource, data: dict) -> None:
        def must_exist(path: str, key: Any, what: str) -> None:
            if key not in (None, "") and str(key) not in company.records[path]:
                raise ApiError(400, Code.UNKNOWN_REFERENCE, f"{what} {key} finns inte.")

        if resource.path == "articles":
            must_exist("units", data.get("Unit"), "Enheten")
        if resource.path == "invoices":
            must_exist("customers", data.get("CustomerNumber"), "Kunden")
        if resource.path in ("invoices", "supplierinvoices", "customers"):
            must_exist("projects", data.get("Project"), "Projektet")
            must_exist("costcenters", data.get("CostCenter"), "Kostnadsstället")
        if resource.path == "supplierinvoices":
            must_exist("suppliers", data.get("SupplierNumber"), "Leverantören")
        for row in data.get(resource.row_field or "") or []:
            must_exist("articles", row.get("ArticleNumber"), "Artikeln")
            must_exist("units", row.get("Unit"), "Enheten")
            must_exist("projects", row.get("Project"), "Projektet")
            must_exist("costcenters", row.get("CostCenter"), "Kostnadsstället")

    def _create(self, company: Company, resource: Resource, payload: Any) -> dict:
        data = clean(resource, payload, creating=True)
        self._check_references(company, resource, data)
        records = company.records[resource.path]
        key = data.get(resource.key)
        if key in (None, ""):
            if not resource.auto_key:
                raise ApiError(400, Code.REQUIRED_FIELD, f"Fältet {resource.key} är obligatoriskt.")
            while True:
                company.counters[resource.path] += 1
                key = str(company.counters[resource.path])
                if key not in company.used_keys[resource.path]:
                    break
        key = str(key)
        if key in records or key in company.used_keys[resource.path]:
            raise ApiError(400, resource.duplicate_code, f"{resource.key} {key} används redan.")
        record = {name: None for name in (*resource.fields, *resource.read_only)}
        record.update(data)
        record[resource.key] = key
        record["@url"] = self._url(resource, key)
        self._defaults(company, resource, record)
        records[key] = record
        company.used_keys[resource.path].add(key)
        self._touch(company, resource, key)
        return self._envelope(resource, record)

    def _defaults(self, company: Company, resource: Resource, record: dict) -> None:
        if "Active" in record and record["Active"] is None:
            record["Active"] = True
        if resource.path == "customers" and record["Type"] is None:
            record["Type"] = "COMPANY"
        if resource.path in ("invoices", "supplierinvoices"):
            today = datetime.datetime.fromtimestamp(self.now(), tz=STOCKHOLM).date()
            record["InvoiceDate"] = record["InvoiceDate"] or today.isoformat()
            record["DueDate"] = (
                record["DueDate"]
                or (
                    datetime.date.fromisoformat(record["InvoiceDate"]) + datetime.timedelta(days=30)
                ).isoformat()
            )
            record.update(Booked=False, Cancelled=False)
            record[resource.row_field] = record[resource.row_field] or []
        if resource.path == "invoices":
            record["InvoiceType"] = record["InvoiceType"] or "INVOICE"
            record["Sent"] = False
            customer = company.records["customers"][record["CustomerNumber"]]
            record["CustomerName"] = record["CustomerName"] or customer["Name"]
            record["OrganisationNumber"] = customer["OrganisationNumber"]
            record["Currency"] = record["Currency"] or customer["Currency"] or "SEK"
            invoice_totals(record)
            record["Balance"] = record["Total"]
        if resource.path == "supplierinvoices":
            record["SupplierName"] = company.records["suppliers"][record["SupplierNumber"]]["Name"]
            record["Balance"] = record["Total"] or Decimal(0)
        if resource.path == "invoicepayments":
            self._apply_payment(company, record)

    def _apply_payment(self, company: Company, payment: dict) -> None:
        invoice = company.records["invoices"].get(payment["InvoiceNumber"])
        if invoice is None:
            raise ApiError(
                400, Code.UNKNOWN_REFERENCE, f"Fakturan {payment['InvoiceNumber']} finns inte."
            )
        if not invoice["Booked"] or invoice["Cancelled"]:
            raise ApiError(400, Code.INVOICE_LOCKED, "Fakturan måste vara bokförd.")
        today = datetime.datetime.fromtimestamp(self.now(), tz=STOCKHOLM).date()
        payment["PaymentDate"] = payment["PaymentDate"] or today.isoformat()
        payment["Booked"] = False
        payment["Currency"] = payment["Currency"] or invoice["Currency"]
        payment["InvoiceCustomerNumber"] = invoice["CustomerNumber"]
        invoice["Balance"] = invoice["Balance"] - payment["Amount"]
        if invoice["Balance"] <= 0:
            invoice["FinalPayDate"] = payment["PaymentDate"]
        self._touch(company, INVOICES, invoice["DocumentNumber"])

    def _update(self, company: Company, resource: Resource, key: str, payload: Any) -> dict:
        record = self._get(company, resource, key)
        data = clean(resource, payload, creating=False)
        if resource.key in data and str(data[resource.key]) != key:
            raise ApiError(400, Code.INVALID_PARAMETER, f"{resource.key} kan inte ändras.")
        if resource.path == "invoicepayments":
            raise ApiError(400, Code.INVOICE_LOCKED, "Inbetalningen kan inte ändras.")
        if resource.path in ("invoices", "supplierinvoices") and (
            record["Booked"] or record["Cancelled"]
        ):
            raise ApiError(400, Code.INVOICE_LOCKED, "Fakturan är bokförd eller makulerad.")
        self._check_references(company, resource, data)
        record.update(data)
        if resource.path == "invoices":
            invoice_totals(record)
            record["Balance"] = record["Total"]
        self._touch(company, resource, key)
        return self._envelope(resource, record)

    def _action(self, company: Company, resource: Resource, key: str, action: str) -> dict:
        record = self._get(company, resource, key)
        if action == "bookkeep":
            if record.get("Cancelled"):
                raise ApiError(400, Code.INVOICE_LOCKED, "Makulerad faktura kan inte bokföras.")
            record["Booked"] = True
        elif action == "cancel":
            if record["Booked"]:
                raise ApiError(400, Code.INVOICE_LOCKED, "Bokförd faktura kan inte makuleras.")
            record["Cancelled"] = True
        elif action in ("externalprint", "email"):
            if record["Cancelled"]:
                raise ApiError(400, Code.INVOICE_LOCKED, "Fakturan är makulerad.")
            record["Sent"] = True
        self._touch(company, resource, key)
        return self._envelope(resource, record)

    def _list(self, company: Company, resource: Resource, query: dict) -> FakeResponse:
        records = list(company.records[resource.path].values())
        today = datetime.datetime.fromtimestamp(self.now(), tz=STOCKHOLM).date()
        named = query.get("filter")
        if named:
            filters = NAMED_FILTERS.get(resource.path, {})
            if named not in filters:
                raise ApiError(400, Code.INVALID_PARAMETER, f"Ogiltigt filter: {named}.")
            records = [r for r in records if filters[named](r, today)]
        if "lastmodified" in query:
            since = _parse_lastmodified(query["lastmodified"])
            records = [
                r for r in records if company.modified_at[(resource.path, r[resource.key])] >= since
            ]
        for parameter, value in query.items():
            if parameter in resource.searchable:
                name = _field_named(resource, parameter)
                needle = value.lower()
                records = [r for r in records if needle in str(r.get(name) or "").lower()]
        for parameter, name in (("fromdate", ">="), ("todate", "<=")):
            if parameter in query and resource.path in ("invoices", "supplierinvoices"):
                bound = query[parameter]
                records = [
                    r
                    for r in records
                    if (r["InvoiceDate"] >= bound if name == ">=" else r["InvoiceDate"] <= bound)
                ]
        sort_field = _field_named(resource, query["sortby"]) if "sortby" in query else resource.key
        records.sort(
            key=lambda r: sort_key(r.get(sort_field)),
            reverse=query.get("sortorder") == "descending",
        )
        try:
            limit = int(query.get("limit", DEFAULT_PAGE_SIZE))
            page = int(query.get("page", 1))
            offset = int(query.get("offset", 0))
        except ValueError:
            raise ApiError(400, Code.INVALID_PARAMETER, "Ogiltig parameter.") from None
        if not 1 <= limit <= MAX_PAGE_SIZE or page < 1 or offset < 0:
            raise ApiError(400, Code.INVALID_PARAMETER, "Ogiltig parameter (page/limit).")
        start = offset + (page - 1) * limit
        items = [list_item(resource, r) for r in records[start : start + limit]]
        total = len(records)
        body = {
            "MetaInformation": {
                "@TotalResources": total,
                "@TotalPages": math.ceil(max(0, total - offset) / limit),
                "@CurrentPage": page,
            },
            resource.plural: items,
        }
        return FakeResponse(200, body)

    # ------------------------------------------------------------------ OAuth
    def _client(self, request: FakeRequest) -> str | None:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return client_id if self.clients.get(client_id) == secret else None

    def _tokens(self, client_id: str, tenant_id: str, scopes: frozenset, *, refresh: bool) -> dict:
        access = Token(
            self._new_secret(), client_id, tenant_id, scopes, self.now() + ACCESS_TOKEN_SECONDS
        )
        self.access_tokens[access.value] = access
        response = {
            "access_token": access.value,
            "scope": " ".join(sorted(scopes)),
            "expires_in": ACCESS_TOKEN_SECONDS,
            "token_type": "bearer",
        }
        if refresh:
            refresh_token = Token(
                self._new_secret(), client_id, tenant_id, scopes, self.now() + REFRESH_TOKEN_SECONDS
            )
            self.refresh_tokens[refresh_token.value] = refresh_token
            response["refresh_token"] = refresh_token.value
        return response

    def _oauth(self, request: FakeRequest, path: str, query: dict) -> FakeResponse:
        if path == "/oauth-v1/auth" and request.method == "GET":
            return self._authorize(query)
        if request.method != "POST":
            return _oauth_error(405, "invalid_request", "POST only")
        client_id = self._client(request)
        if client_id is None:
            return _oauth_error(401, "invalid_client", "Invalid client credentials")
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        with self._lock:
            if path == "/oauth-v1/token":
                return self._token(request, client_id, form)
            if path == "/oauth-v1/revoke":
                token = self.refresh_tokens.get(form.get("token", ""))
                if token is not None and token.client_id == client_id:
                    del self.refresh_tokens[token.value]
                return FakeResponse(200, {"revoked": True})
        return _oauth_error(404, "invalid_request", "Unknown endpoint")

    def _authorize(self, query: dict) -> FakeResponse:
        """The consent page, approved at once (as a user of tenant `tenant`, a fake-only
        parameter, default "1"); redirects back with the code and state."""
        for required in ("client_id", "redirect_uri", "scope", "state", "response_type"):
            if not query.get(required):
                return _oauth_error(400, "invalid_request", f"{required} is required")
        if query["client_id"] not in self.clients:
            return _oauth_error(400, "invalid_client", "Unknown client_id")
        code = self.issue_code(
            client_id=query["client_id"],
            redirect_uri=query["redirect_uri"],
            scope=query["scope"],
            tenant_id=query.get("tenant", DEFAULT_TENANT),
        )
        separator = "&" if "?" in query["redirect_uri"] else "?"
        location = (
            query["redirect_uri"] + separator + urlencode({"code": code, "state": query["state"]})
        )
        return FakeResponse(302, b"", {"Location": location})

    def _token(self, request: FakeRequest, client_id: str, form: dict) -> FakeResponse:
        grant = form.get("grant_type")
        if grant == "authorization_code":
            grant_data = self.codes.pop(form.get("code", ""), None)  # single use
            if (
                grant_data is None
                or grant_data["client_id"] != client_id
                or grant_data["expires_at"] <= self.now()
            ):
                return _oauth_error(400, "invalid_grant", "Invalid authorization code")
            if grant_data["redirect_uri"] != form.get("redirect_uri"):
                return _oauth_error(400, "invalid_grant", "redirect_uri mismatch")
            body = self._tokens(
                client_id, grant_data["tenant_id"], grant_data["scopes"], refresh=True
            )
            return FakeResponse(200, body)
        if grant == "refresh_token":
            # Rotation: the refresh token is spent; the answer carries its successor.
            token = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if token is None or token.client_id != client_id or token.expires_at <= self.now():
                return _oauth_error(400, "invalid_grant", "Invalid refresh token")
            return FakeResponse(
                200, self._tokens(client_id, token.tenant_id, token.scopes, refresh=True)
            )
        if grant == "client_credentials":
            tenant_id = request.headers.get("tenantid", "")
            scopes = self.service_accounts.get((client_id, tenant_id))
            if scopes is None:
                return _oauth_error(400, "invalid_grant", "No service account for TenantId")
            return FakeResponse(200, self._tokens(client_id, tenant_id, scopes, refresh=False))
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type {grant}")

    # ------------------------------------------------------------------ control
    def _control(self, request: FakeRequest, path: str) -> FakeResponse:
        """Fake-only endpoints for manual runs and the benchmark (never at Fortnox)."""
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return FakeResponse(400, {"error": "invalid JSON"})
        if path == "/_fake/requests" and request.method == "GET":
            with self._lock:
                return FakeResponse(200, {"requests": [asdict(entry) for entry in self.log]})
        if path == "/_fake/faults" and request.method == "POST":
            with self._lock:
                try:
                    self.faults = Faults(**{**asdict(self.faults), **payload})
                except TypeError as error:
                    return FakeResponse(400, {"error": str(error)})
            return FakeResponse(200, asdict(self.faults))
        if path == "/_fake/inject" and request.method == "POST":
            try:
                self.inject(**payload)
            except (TypeError, ValueError) as error:
                return FakeResponse(400, {"error": str(error)})
            return FakeResponse(200, {"ok": True})
        if path == "/_fake/tokens" and request.method == "POST":
            return FakeResponse(200, self.issue_token(**payload))
        if path == "/_fake/codes" and request.method == "POST":
            return FakeResponse(200, {"code": self.issue_code(**payload)})
        if path == "/_fake/service-accounts" and request.method == "POST":
            self.authorize_service_account(**payload)
            return FakeResponse(200, {"ok": True})
        if path == "/_fake/reset" and request.method == "POST":
            self.reset()
            return FakeResponse(200, {"ok": True})
        return FakeResponse(404, {"error": "unknown control endpoint"})


def _oauth_error(status: int, error: str, description: str) -> FakeResponse:
    return FakeResponse(status, {"error": error, "error_description": description})


def _field_named(resource: Resource, parameter: str) -> str:
    """The PascalCase field a lower-case query parameter names."""
    for name in (*resource.fields, *resource.read_only):
        if name.lower() == parameter.lower():
            return name
    raise ApiError(400, Code.INVALID_PARAMETER, f"Ogiltig parameter: {parameter}.")


def _parse_lastmodified(value: str) -> datetime.datetime:
    """`YYYY-MM-DD HH:MM` (the docs) or with seconds (fx-cs), Swedish local time."""
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(value, pattern)  # noqa: DTZ007 (Stockholm, naive)
        except ValueError:
            continue
    raise ApiError(400, Code.INVALID_PARAMETER, f"Ogiltigt datum för lastmodified: {value}.")
