"""The fake Visma.net ERP itself, without HTTP: ``VismaNetFake.handle(FakeRequest)``.

Visma Connect (``/connect/authorize``, ``/connect/token``, ``/connect/revocation``) issues
tokens for a tenant; only *company* tenants reach the ERP API: a token of a *customer*
tenant is accepted by Visma Connect, and every API call answers 401. State, licences and the
rate limit are per company; the limit is a fixed window per client id and company,
advertised on every answer in ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset``.
"""

from __future__ import annotations

import base64
import collections
import datetime
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

from integrations.fakes import (
    FAULT_KINDS,
    FakeRequest,
    FakeResponse,
    Faults,
    LoggedRequest,
    ScriptedFault,
    fault_draw,
)
from integrations.vismanet.fake.resources import (
    ITEM_STATUSES,
    ITEM_TYPES,
    PROJECT_STATUSES,
    RESOURCES,
    VAT_CODES,
    ApiError,
    Resource,
    address_read,
    clean,
    contact_read,
    decimal_of,
    invalid,
)

DEFAULT_CLIENT_ID = "fake-vismanet-client"
DEFAULT_CLIENT_SECRET = "fake-vismanet-secret"  # noqa: S105 (the fake's own test credential)
DEFAULT_COMPANY = "5f1c0de0-0000-4000-8000-000000000001"
DEFAULT_CUSTOMER_TENANT = "5f1c0de0-0000-4000-8000-0000000000c1"
SERVICE_SCOPES = " ".join(
    f"vismanet_erp_service_api:{right}" for right in ("read", "create", "update", "delete")
)
INTERACTIVE_SCOPES = "openid email profile tenants offline_access " + " ".join(
    f"vismanet_erp_interactive_api:{right}" for right in ("read", "create", "update", "delete")
)
RIGHTS = {"GET": "read", "POST": "create", "PUT": "update", "DELETE": "delete"}
ACCESS_TOKEN_SECONDS = 60 * 60
CODE_SECONDS = 5 * 60
DEFAULT_PAGE_SIZE = 100  # without pageSize the API answers only the first page of this
MAX_PAGE_SIZE = 1000
RATE_LIMIT = 3600
RATE_WINDOW = 3600.0
UNAUTHORIZED = "Authorization has been denied for this request."


@dataclass
class Token:
    value: str
    client_id: str
    tenant_id: str
    scopes: frozenset[str]
    expires_at: float
    offline: bool = False


@dataclass
class Company:
    tenant_id: str
    records: dict[str, dict[str, dict]] = field(
        default_factory=lambda: {path: {} for path in RESOURCES}
    )
    counters: dict[str, int] = field(default_factory=lambda: collections.defaultdict(int))
    # SUBACCOUNT dimension: segment id → {"description", "length", "values": {id: {...}}}.
    segments: dict[int, dict] = field(default_factory=dict)
    unlicensed: set[str] = field(default_factory=set)  # resource paths


def _now_text(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _parse_moment(value: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise invalid(f"'{value}' is not a valid date and time.") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment


CONDITIONS = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


class VismaNetFake:
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

    # ----------------------------------------------------------------- test helpers
    def reset(self) -> None:
        with self._lock:
            self.rng = random.Random(self.seed)  # noqa: S311 (deterministic fault draws)
            self.companies: dict[str, Company] = {}
            self.customer_tenants: set[str] = {DEFAULT_CUSTOMER_TENANT}
            self.codes: dict[str, dict] = {}
            self.access_tokens: dict[str, Token] = {}
            self.refresh_tokens: dict[str, Token] = {}
            # (client id, tenant id) the tenant's administrator granted the app.
            self.granted: set[tuple[str, str]] = set()
            self.scripted: list[ScriptedFault] = []
            self.log: list[LoggedRequest] = []
            self._windows: dict[tuple[str, str], list[float]] = {}  # [start, count]
            self.company(DEFAULT_COMPANY)
            for client_id in self.clients:
                self.granted.add((client_id, DEFAULT_COMPANY))
                self.granted.add((client_id, DEFAULT_CUSTOMER_TENANT))

    def company(self, tenant_id: str = DEFAULT_COMPANY) -> Company:
        with self._lock:
            if tenant_id not in self.companies:
                self.companies[tenant_id] = Company(tenant_id)
            return self.companies[tenant_id]

    def _secret(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def _token_value(self, client_id: str, tenant_id: str) -> str:
        """A JWT-shaped access token (unsigned here) carrying the tenant, as Visma
        Connect's tokens do."""

        def part(document: dict) -> str:
            return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")

        claims = {"client_id": client_id, "tenant_id": tenant_id, "jti": self._secret()}
        return f"{part({'alg': 'none', 'typ': 'at+jwt'})}.{part(claims)}.fake"

    def issue_code(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        redirect_uri: str = "http://127.0.0.1/callback",
        scope: str = INTERACTIVE_SCOPES,
        tenant_id: str = DEFAULT_COMPANY,
    ) -> str:
        """A code as if a user signed in and picked `tenant_id` (a company, or by mistake
        the customer tenant)."""
        with self._lock:
            code = self._secret()
            self.codes[code] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scopes": frozenset(scope.split()),
                "tenant_id": tenant_id,
                "expires_at": time.time() + CODE_SECONDS,
            }
            return code

    def unlicense(self, path: str, *, tenant_id: str = DEFAULT_COMPANY) -> None:
        with self._lock:
            self.company(tenant_id).unlicensed.add(path)

    def license(self, path: str, *, tenant_id: str = DEFAULT_COMPANY) -> None:
        with self._lock:
            self.company(tenant_id).unlicensed.discard(path)

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
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(FAULT_KINDS)}")
        with self._lock:
            self.scripted.append(ScriptedFault(kind, count, method, path_prefix))

    def requests(
        self, *, method: str | None = None, path_prefix: str = "/v1/"
    ) -> list[LoggedRequest]:
        with self._lock:
            return [
                entry
                for entry in self.log
                if entry.path.startswith(path_prefix) and (method is None or entry.method == method)
            ]

    def max_in_window(self) -> int:
        """The most API requests served in one fixed window of one client and company."""
        with self._lock:
            counts: collections.Counter = collections.Counter()
            for entry in self.requests():
                if entry.status and entry.status != 429 and entry.client_id:
                    counts[(entry.client_id, entry.tenant_id, entry.window)] += 1
            return max(counts.values(), default=0)

    # SUBACCOUNT segments -------------------------------------------------------------
    def segment_add(
        self,
        segment_id: int,
        description: str,
        *,
        length: int = 4,
        tenant_id: str = DEFAULT_COMPANY,
    ) -> None:
        with self._lock:
            self.company(tenant_id).segments[segment_id] = {
                "description": description,
                "length": length,
                "values": {},
            }

    def segment_value_add(
        self,
        segment_id: int,
        value_id: str,
        description: str,
        *,
        active: bool = True,
        tenant_id: str = DEFAULT_COMPANY,
    ) -> None:
        with self._lock:
            segment = self.company(tenant_id).segments[segment_id]
            if len(value_id) > segment["length"]:
                raise ValueError("value longer than the segment")
            segment["values"][value_id] = {
                "valueId": value_id,
                "description": description,
                "active": active,
                "publicId": self._secret(),
                "lastModified": _now_text(self._utcnow()),
            }

    def segment_value_remove(
        self, segment_id: int, value_id: str, *, tenant_id: str = DEFAULT_COMPANY
    ) -> None:
        with self._lock:
            self.company(tenant_id).segments[segment_id]["values"].pop(value_id, None)

    # Documents the ERP's own users make -------------------------------------------------
    def invoice_release(self, reference: str, *, tenant_id: str = DEFAULT_COMPANY) -> None:
        with self._lock:
            record = self.company(tenant_id).records["customerinvoice"][reference]
            record["status"] = "Open"
            self._touch(record)

    def invoice_pay(
        self, reference: str, amount: Decimal | None = None, *, tenant_id: str = DEFAULT_COMPANY
    ) -> None:
        """A payment is applied to a released invoice: its balance drops; at 0 it is
        Closed."""
        with self._lock:
            record = self.company(tenant_id).records["customerinvoice"][reference]
            if record["status"] not in ("Open", "Closed"):
                raise ValueError("only released invoices are paid")
            paid = record["balance"] if amount is None else amount
            record["balance"] = max(Decimal(0), record["balance"] - paid)
            if record["balance"] == 0:
                record["status"] = "Closed"
            self._touch(record)

    def supplier_invoice_add(
        self,
        *,
        supplier: str,
        lines: list[dict],
        status: str = "Open",
        date: str = "2026-11-30",
        tenant_id: str = DEFAULT_COMPANY,
    ) -> str:
        """A supplier invoice entered in the ERP; each line may book to a project
        (``{"project": "P1", "description", "quantity", "unitCost", "inventoryNumber"}``)."""
        with self._lock:
            company = self.company(tenant_id)
            company.counters["supplierInvoice"] += 1
            reference = f"{company.counters['supplierInvoice']:06d}"
            read_lines = []
            for number, line in enumerate(lines, start=1):
                quantity = Decimal(str(line.get("quantity", 1)))
                unit_cost = Decimal(str(line["unitCost"]))
                project = line.get("project")
                read_lines.append(
                    {
                        "lineNumber": number,
                        "inventoryNumber": line.get("inventoryNumber"),
                        "transactionDescription": line.get("description", ""),
                        "quantity": quantity,
                        "uom": line.get("uom"),
                        "unitCost": unit_cost,
                        "cost": quantity * unit_cost,
                        "account": {"number": "4000", "description": "Varekjøp"},
                        "subaccount": None,
                        "vatCode": {"id": "1", "description": "Inngående mva, høy sats"},
                        "project": {"internalId": 0, "id": project, "description": project}
                        if project
                        else None,
                        "projectTask": None,
                        "note": None,
                    }
                )
            amount = sum((line["cost"] for line in read_lines), Decimal(0))
            record = {
                "referenceNumber": reference,
                "documentType": "Invoice",
                "status": status,
                "supplier": {"internalId": 1, "number": supplier, "name": supplier},
                "supplierReference": f"S-{reference}",
                "date": date,
                "dueDate": date,
                "amount": amount,
                "vatAmount": (amount * Decimal("0.25")).quantize(Decimal("0.01")),
                "balance": amount,
                "currencyId": "NOK",
                "description": supplier,
                "invoiceLines": read_lines,
            }
            self._touch(record, created=True)
            company.records["supplierInvoice"][reference] = record
            return reference

    # ------------------------------------------------------------------ dispatch
    def _utcnow(self) -> datetime.datetime:
        return datetime.datetime.now(tz=datetime.UTC).replace(tzinfo=None)

    def _touch(self, record: dict, *, created: bool = False) -> None:
        moment = self._utcnow()
        record["lastModifiedDateTime"] = _now_text(moment)
        record["_modified"] = moment
        if created:
            record["createdDateTime"] = record["lastModifiedDateTime"]
        record["timeStamp"] = base64.b64encode(uuid.uuid4().bytes[:8]).decode()

    def handle(self, request: FakeRequest) -> FakeResponse:
        parts = urlsplit(request.target)
        path = parts.path
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        if path.startswith("/connect/"):
            response = self._connect(request, path, query)
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
        entry.window = None  # type: ignore[attr-defined]
        with self._lock:
            self.log.append(entry)
        headers: dict[str, str] = {}
        try:
            response = self._api(request, entry, path, query, headers)
        except ApiError as error:
            response = FakeResponse(error.status, error.body())
        response.headers = {**headers, **response.headers}
        entry.status = 0 if response.drop_connection else response.status
        return response

    def _api(
        self, request: FakeRequest, entry: LoggedRequest, path: str, query: dict, headers: dict
    ) -> FakeResponse:
        authorization = request.headers.get("authorization", "")
        value = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
        with self._lock:
            token = self.access_tokens.get(value)
            if token is None or token.expires_at <= time.time():
                raise ApiError(401, UNAUTHORIZED)
            entry.token = value
            entry.client_id, entry.tenant_id = token.client_id, token.tenant_id
            limited = self._count(token, entry, headers)
            if limited is not None:
                return limited
            if token.tenant_id not in self.companies:
                # A customer tenant (or one without Visma.net ERP): authenticated, refused.
                raise ApiError(401, UNAUTHORIZED)
            fault = fault_draw(self.faults, self.scripted, self.rng, request.method, path)
        entry.fault = fault
        if fault == "429":
            headers["Retry-After"] = "1"
            return FakeResponse(429, {"message": "API rate limit exceeded."})
        if fault == "error_500":
            return FakeResponse(500, {"message": "An error has occurred."})
        if fault == "late_commit":
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
            return FakeResponse(500, {"message": "An error has occurred."})
        return response

    def _count(self, token: Token, entry: LoggedRequest, headers: dict) -> FakeResponse | None:
        """The fixed window of the client and company: counted, advertised, enforced."""
        now = time.monotonic()
        key = (token.client_id, token.tenant_id)
        window = self._windows.get(key)
        if window is None or now >= window[0] + self.rate_window:
            window = self._windows[key] = [now, 0]
        reset = window[0] + self.rate_window - now
        headers.update(
            {
                "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Reset": str(max(1, math.ceil(reset))),
                "X-RateLimit-Policy": f"{self.rate_limit};w={self.rate_window:g}-fixed-window",
            }
        )
        if window[1] >= self.rate_limit:
            headers["X-RateLimit-Remaining"] = "0"
            return FakeResponse(429, {"message": "API rate limit exceeded."})
        window[1] += 1
        entry.window = window[0]  # type: ignore[attr-defined]
        headers["X-RateLimit-Remaining"] = str(self.rate_limit - window[1])
        return None

    # ------------------------------------------------------------------ Visma Connect
    def _connect(self, request: FakeRequest, path: str, query: dict) -> FakeResponse:
        if path == "/connect/authorize" and request.method == "GET":
            if query.get("client_id") not in self.clients or query.get("response_type") != "code":
                return FakeResponse(400, {"error": "invalid_request"})
            code = self.issue_code(
                client_id=query["client_id"],
                redirect_uri=query.get("redirect_uri", ""),
                scope=query.get("scope", ""),
                tenant_id=query.get("tenant_id", DEFAULT_COMPANY),
            )
            target = f"{query.get('redirect_uri', '')}?" + urlencode(
                {"code": code, "state": query.get("state", "")}
            )
            return FakeResponse(302, b"", {"Location": target})
        form = {key: values[-1] for key, values in parse_qs(request.body.decode()).items()}
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            client_id, _colon, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if self.clients.get(client_id) != secret or not client_id:
            return FakeResponse(401, {"error": "invalid_client"})
        with self._lock:
            if path == "/connect/token" and request.method == "POST":
                return self._token(client_id, form)
            if path == "/connect/revocation" and request.method == "POST":
                self.refresh_tokens.pop(form.get("token", ""), None)
                self.access_tokens.pop(form.get("token", ""), None)
                return FakeResponse(200, b"")
        return FakeResponse(404, {"error": "not_found"})

    def _tokens(self, client_id: str, tenant_id: str, scopes: frozenset, offline: bool) -> dict:
        value = self._token_value(client_id, tenant_id)
        expires_at = time.time() + ACCESS_TOKEN_SECONDS
        self.access_tokens[value] = Token(value, client_id, tenant_id, scopes, expires_at)
        answer = {
            "access_token": value,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": " ".join(sorted(scopes)),
        }
        if offline:
            refresh = self._secret()
            self.refresh_tokens[refresh] = Token(refresh, client_id, tenant_id, scopes, 0, True)
            answer["refresh_token"] = refresh
        return answer

    def _token(self, client_id: str, form: dict) -> FakeResponse:
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if (
                code is None
                or code["client_id"] != client_id
                or code["expires_at"] < time.time()
                or code["redirect_uri"] != form.get("redirect_uri")
            ):
                return FakeResponse(400, {"error": "invalid_grant"})
            scopes = code["scopes"]
            return FakeResponse(
                200,
                self._tokens(client_id, code["tenant_id"], scopes, "offline_access" in scopes),
            )
        if grant == "refresh_token":
            old = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if old is None or old.client_id != client_id:
                return FakeResponse(400, {"error": "invalid_grant"})
            return FakeResponse(200, self._tokens(client_id, old.tenant_id, old.scopes, True))
        if grant == "client_credentials":
            tenant_id = form.get("tenant_id", "")
            if (client_id, tenant_id) not in self.granted:
                return FakeResponse(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "The tenant has not granted access to the client.",
                    },
                )
            scopes = frozenset(form.get("scope", "").split())
            if not scopes or not scopes <= frozenset(SERVICE_SCOPES.split()):
                return FakeResponse(400, {"error": "invalid_scope"})
            return FakeResponse(200, self._tokens(client_id, tenant_id, scopes, False))
        return FakeResponse(400, {"error": "unsupported_grant_type"})

    # ------------------------------------------------------------------ the API
    def _route(self, request: FakeRequest, token: Token, path: str, query: dict) -> FakeResponse:
        segments = [part for part in path.split("/") if part][1:]  # after "v1"
        right = RIGHTS.get(request.method, "")
        if not any(scope.endswith(f"_api:{right}") for scope in token.scopes):
            raise ApiError(403, f"The token has no {right} access to the API.")
        company = self.company(token.tenant_id)
        if segments[:1] == ["dimension"]:
            if request.method != "GET":
                raise ApiError(405, "The requested resource does not support this method.")
            with self._lock:
                return FakeResponse(200, self._dimension(company, segments[1:]))
        if not segments or segments[0] not in RESOURCES:
            raise ApiError(404, "No HTTP resource was found that matches the request URI.")
        resource = RESOURCES[segments[0]]
        if resource.path in company.unlicensed:
            raise ApiError(
                403,
                f"The company has no licence for {resource.module}: access to "
                f"{resource.path} is denied.",
            )
        method = request.method
        with self._lock:
            if len(segments) == 1 and method == "GET":
                return self._list(company, resource, query)
            if len(segments) == 1 and method == "POST" and resource.fields:
                key = self._create(company, resource, self._body(request))
                location = f"{self.base_url}/v1/{resource.path}/{key}"
                return FakeResponse(201, b"", {"Location": location})
            if len(segments) == 2:
                record = company.records[resource.path].get(segments[1])
                if record is None:
                    raise ApiError(404, f"{resource.path} '{segments[1]}' was not found.")
                if method == "GET":
                    return FakeResponse(
                        200, self._read(resource, record), {"ETag": record["timeStamp"]}
                    )
                if method == "PUT" and resource.fields:
                    match = request.headers.get("if-match")
                    if match and match != record["timeStamp"]:
                        raise ApiError(
                            412, "The record was changed by someone else (ETag mismatch)."
                        )
                    self._update(company, resource, record, self._body(request))
                    return FakeResponse(204, b"")
        raise ApiError(405, "The requested resource does not support this method.")

    def _body(self, request: FakeRequest) -> Any:
        if "json" not in request.headers.get("content-type", ""):
            raise ApiError(415, "The request entity's media type is not supported.")
        try:
            return json.loads(request.body or b"null", parse_float=Decimal)
        except ValueError:
            raise invalid("The request body is not valid JSON.") from None

    def _dimension(self, company: Company, segments: list[str]) -> Any:
        if not segments or segments[0] != "SUBACCOUNT":
            raise ApiError(404, "The dimension was not found.")

        def segment_read(segment_id: int, segment: dict) -> dict:
            return {
                "segmentId": segment_id,
                "description": segment["description"],
                "length": segment["length"],
                "validate": True,
                "isAutoNumber": False,
                "segmentValues": [dict(value) for value in segment["values"].values()],
            }

        if len(segments) == 1:
            return {
                "id": "SUBACCOUNT",
                "length": sum(segment["length"] for segment in company.segments.values()),
                "description": "Subaccount",
                "segments": [
                    segment_read(segment_id, segment)
                    for segment_id, segment in sorted(company.segments.items())
                ],
            }
        try:
            segment_id = int(segments[1])
            return segment_read(segment_id, company.segments[segment_id])
        except (ValueError, KeyError):
            raise ApiError(404, "The segment was not found.") from None

    # -- lists -----------------------------------------------------------------------
    def _list(self, company: Company, resource: Resource, query: dict) -> FakeResponse:
        records = list(company.records[resource.path].values())
        moment = query.get("lastModifiedDateTime")
        if moment:
            condition = CONDITIONS.get(query.get("lastModifiedDateTimeCondition", ">="))
            if condition is None:
                raise invalid("lastModifiedDateTimeCondition is one of >, >=, <, <=.")
            since = _parse_moment(moment)
            records = [record for record in records if condition(record["_modified"], since)]
        filters = {
            "customer": lambda record: (record.get("customer") or {}).get("number"),
            "status": lambda record: record.get("status"),
            "project": lambda record: (record.get("project") or {}).get("id"),
        }
        for name, read in filters.items():
            if name in query and resource.path in ("customerinvoice", "supplierInvoice"):
                records = [record for record in records if read(record) == query[name]]
        records.sort(key=lambda record: record["_modified"])
        try:
            page = int(query.get("pageNumber", 1))
            size = int(query.get("pageSize", DEFAULT_PAGE_SIZE))
        except ValueError:
            raise invalid("pageNumber and pageSize are numbers.") from None
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            raise invalid(f"pageNumber starts at 1; pageSize is 1 to {MAX_PAGE_SIZE}.")
        chosen = records[(page - 1) * size : page * size]
        metadata = {"totalCount": len(records), "maxPageSize": MAX_PAGE_SIZE}
        return FakeResponse(
            200, [{**self._read(resource, record), "metadata": metadata} for record in chosen]
        )

    # -- reads -----------------------------------------------------------------------
    def _read(self, resource: Resource, record: dict) -> dict:
        return {name: value for name, value in record.items() if not name.startswith("_")}

    # -- writes ----------------------------------------------------------------------
    def _create(self, company: Company, resource: Resource, payload: Any) -> str:
        values = clean(resource, payload)
        records = company.records[resource.path]
        company.counters[resource.path] += 1
        serial = company.counters[resource.path]
        if resource.path == "customer":
            number = values.get("number") if values.get("overrideNumberSeries") else None
            key = str(number or f"{serial:05d}")
            if not values.get("name"):
                raise invalid("'name' cannot be empty.")
            record: dict[str, Any] = {"internalId": serial, "number": key}
        elif resource.path == "inventory":
            key = str(values.get("inventoryNumber") or "")
            if not key or not values.get("description"):
                raise invalid("'inventoryNumber' and 'description' cannot be empty.")
            record = {"inventoryId": serial, "inventoryNumber": key, "stockItem": False}
        elif resource.path == "project":
            key = str(values.get("projectID") or "")
            if not key:
                raise invalid("'projectID' cannot be empty.")
            record = {"internalID": serial, "projectID": key, "publicId": self._secret()}
        else:
            key = f"{serial:06d}"
            record = {"referenceNumber": key, "documentType": "Invoice", "status": "Balanced"}
        if key in records:
            raise invalid(f"Another {resource.path} already exists with the ID '{key}'.")
        self._apply(company, resource, record, values, creating=True)
        self._touch(record, created=True)
        records[key] = record
        return key

    def _update(self, company: Company, resource: Resource, record: dict, payload: Any) -> None:
        values = clean(resource, payload)
        if resource.path == "customerinvoice" and record["status"] not in ("Balanced", "Hold"):
            raise invalid("A released invoice cannot be changed.")
        for key_field in ("number", "inventoryNumber", "projectID"):
            if key_field in values and values[key_field] != record.get(key_field):
                raise invalid(f"'{key_field}' cannot be changed.")
        self._apply(company, resource, record, values, creating=False)
        self._touch(record)

    def _apply(
        self, company: Company, resource: Resource, record: dict, values: dict, *, creating: bool
    ) -> None:
        apply = getattr(self, f"_apply_{resource.path}")
        apply(company, record, values, creating)

    def _apply_customer(self, company: Company, record: dict, values: dict, creating: bool) -> None:
        status = values.get("status", record.get("status") or "Active")
        if status not in {"Active", "OnHold", "CreditHold", "Inactive", "OneTime"}:
            raise invalid(f"'{status}' is not a valid customer status.")
        stored = record.setdefault("_write", {})
        stored.update(values)
        record.update(
            {
                "name": stored.get("name"),
                "status": status,
                "corporateId": stored.get("corporateId"),
                "vatRegistrationId": stored.get("vatRegistrationId"),
                "mainAddress": address_read(stored.get("mainAddress"), record["internalId"] * 10),
                "invoiceAddress": address_read(
                    stored.get("invoiceAddress"), record["internalId"] * 10 + 1
                ),
                "deliveryAddress": address_read(
                    stored.get("deliveryAddress"), record["internalId"] * 10 + 2
                ),
                "mainContact": contact_read(stored.get("mainContact"), record["internalId"] * 10),
                "currencyId": stored.get("currencyId") or "NOK",
                "vatZone": {"id": stored.get("vatZoneId") or "01"},
            }
        )

    def _apply_inventory(
        self, company: Company, record: dict, values: dict, creating: bool
    ) -> None:
        if values.get("status", "Active") not in ITEM_STATUSES:
            raise invalid(f"'{values.get('status')}' is not a valid item status.")
        if values.get("type", "NonStockItem") not in ITEM_TYPES:
            raise invalid(f"'{values.get('type')}' is not a valid item type.")
        vat_code = values.get("vatCode")
        if vat_code not in (None, "") and vat_code not in VAT_CODES:
            raise invalid(f"VAT code '{vat_code}' does not exist.")
        if "defaultPrice" in values:
            values["defaultPrice"] = decimal_of(values["defaultPrice"], "defaultPrice")
        record.update({name: value for name, value in values.items() if name != "vatCode"})
        record.setdefault("status", "Active")
        record.setdefault("type", "NonStockItem")
        if "vatCode" in values:
            record["vatCode"] = (
                {"id": vat_code, "description": VAT_CODES[vat_code][0]} if vat_code else None
            )

    def _apply_project(self, company: Company, record: dict, values: dict, creating: bool) -> None:
        status = values.get("status", record.get("status") or "Planned")
        if status not in PROJECT_STATUSES:
            raise invalid(f"'{status}' is not a valid project status.")
        if "customer" in values:
            customer = company.records["customer"].get(str(values["customer"]))
            if customer is None:
                raise invalid(f"Customer '{values['customer']}' does not exist.")
            record["customer"] = {"number": customer["number"], "name": customer["name"]}
        record.update({name: value for name, value in values.items() if name not in ("customer",)})
        record["status"] = status
        record.setdefault("customer", None)
        record.setdefault("hold", False)

    def _apply_customerinvoice(
        self, company: Company, record: dict, values: dict, creating: bool
    ) -> None:
        number = values.get("customerNumber")
        if creating or number is not None:
            customer = company.records["customer"].get(str(number))
            if customer is None:
                raise invalid(f"Customer '{number}' does not exist.")
            record["customer"] = {"number": customer["number"], "name": customer["name"]}
        if values.get("project"):
            if values["project"] not in company.records["project"]:
                raise invalid(f"Project '{values['project']}' does not exist.")
            record["project"] = {"internalId": 0, "id": values["project"], "description": ""}
        for name in (
            "documentDate",
            "documentDueDate",
            "currencyId",
            "customerRefNumber",
            "externalReference",
            "invoiceText",
            "hold",
        ):
            if name in values:
                record[name] = values[name]
        record.setdefault("currencyId", "NOK")
        record.setdefault("project", None)
        if values.get("hold"):
            record["status"] = "Hold"
        lines = {line["lineNumber"]: line for line in record.get("invoiceLines") or []}
        for line in values.get("invoiceLines") or []:
            number = line.get("lineNumber")
            if line["operation"] == "Delete":
                lines.pop(number, None)
                continue
            if line["operation"] == "Update" and number not in lines:
                raise invalid(f"Line {number} does not exist.")
            if line["operation"] == "Insert":
                number = max(lines, default=0) + 1
            lines[number] = self._line(company, number, line, lines.get(number))
        record["invoiceLines"] = [lines[number] for number in sorted(lines)]
        amount = sum((line["amount"] for line in record["invoiceLines"]), Decimal(0))
        vat = sum(
            (
                line["amount"] * VAT_CODES[line["vatCode"]["id"]][1] / 100
                for line in record["invoiceLines"]
                if line["vatCode"]
            ),
            Decimal(0),
        ).quantize(Decimal("0.01"))
        record["amount"] = amount + vat
        record["vatTotal"] = vat
        record["balance"] = amount + vat

    def _line(self, company: Company, number: int, line: dict, old: dict | None) -> dict:
        inventory = line.get("inventoryNumber", (old or {}).get("inventoryNumber"))
        if inventory and inventory not in company.records["inventory"]:
            raise invalid(f"Inventory item '{inventory}' does not exist.")
        vat_code = line.get("vatCodeId", ((old or {}).get("vatCode") or {}).get("id"))
        if vat_code is None:
            # Without a code the line takes the item's, else the standard rate's.
            item = company.records["inventory"].get(inventory) if inventory else None
            vat_code = ((item or {}).get("vatCode") or {}).get("id") or "3"
        if vat_code not in VAT_CODES:
            raise invalid(f"VAT code '{vat_code}' does not exist.")
        quantity = decimal_of(line.get("quantity", (old or {}).get("quantity", 1)), "quantity")
        price = decimal_of(
            line.get("unitPriceInCurrency", (old or {}).get("unitPrice", 0)), "unitPriceInCurrency"
        )
        segments = line.get("subaccount")
        subaccount = (old or {}).get("subaccount")
        if segments is not None:
            subaccount = self._subaccount(company, segments)
        return {
            "lineNumber": number,
            "inventoryNumber": inventory,
            "description": line.get("description", (old or {}).get("description")),
            "quantity": quantity,
            "unitPrice": price,
            "unitPriceInCurrency": price,
            "amount": (quantity * price).quantize(Decimal("0.01")),
            "uom": line.get("uom"),
            "vatCode": {"id": vat_code, "description": VAT_CODES[vat_code][0]},
            "subaccount": subaccount,
        }

    def _subaccount(self, company: Company, segments: list[dict]) -> dict:
        """The subaccount of a line, from its segment values: an unknown segment or value
        (or an inactive one) is refused, as the ERP validates them."""
        given = {}
        for item in segments:
            segment_id = item.get("segmentId")
            value = item.get("segmentValue")
            segment = company.segments.get(segment_id)
            if segment is None:
                raise invalid(f"Segment {segment_id} does not exist in SUBACCOUNT.")
            known = segment["values"].get(value)
            if known is None or not known["active"]:
                raise invalid(
                    f"The value '{value}' is not valid for segment {segment_id} "
                    f"({segment['description']}) of SUBACCOUNT."
                )
            given[segment_id] = value
        parts = []
        read_segments = []
        for segment_id, segment in sorted(company.segments.items()):
            value = given.get(segment_id, "")
            parts.append(value.ljust(segment["length"], "_") if value else "_" * segment["length"])
            read_segments.append(
                {
                    "segmentId": segment_id,
                    "segmentDescription": segment["description"],
                    "segmentValue": value,
                    "segmentValueDescription": segment["values"][value]["description"]
                    if value
                    else "",
                }
            )
        return {"subaccountNumber": "-".join(parts), "segments": read_segments}
