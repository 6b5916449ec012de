"""A fake Visma Global that behaves like one company database of it, for machines without
Visma's Windows components (tests, demos, `severa-agent` with `adapter = fake`).

Like Visma Global it keeps number series (customers, orders, invoices: a record created
without a number takes the series' next one, and a number outside the series of the
register is refused), a customer type list, and the order cycle: an order the integration
creates is turned into an invoice by a person (`order_to_invoice`), which is then sent
(`invoice_send`) and paid (`invoice_pay`). Supplier invoices with project rows are entered
by a person (`supplier_invoice_add`). Unknown fields are refused with Visma Global's error
text; modules can be unlicensed; calls beyond `rate_limit` per `rate_window` seconds are
refused. Faults: errors, timeouts (the write applied, the answer lost) and late commits
(the write applied only `late_commit_seconds` after the caller gave up).

With `path`, the company is kept in a JSON file (the demo on this machine).
"""

from __future__ import annotations

import collections
import copy
import json
import random
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.vismaglobal.interface import (
    ADDRESS_FIELDS,
    CONTACT_FIELDS,
    FIELDS,
    KEYS,
    ORDER_ROW_FIELDS,
    VismaGlobalError,
)

# The module each register needs (a licence of Visma Global).
MODULES = {
    "department": "Base",
    "employee": "Payroll",
    "article": "Article",
    "customer": "Base",
    "project": "Project",
    "order": "Order",
    "supplier_invoice": "Accounting",
}
DEFAULT_SERIES = {
    "customer": (10000, 19999),
    "order": (1, 99999),
    "invoice": (100000, 199999),
}
DEFAULT_TYPES = [
    {"CustomerTypeNo": 1, "Name": "Domestic"},
    {"CustomerTypeNo": 2, "Name": "Foreign"},
    {"CustomerTypeNo": 9, "Name": "Internal"},
]


def _now() -> str:
    return datetime.now(UTC).isoformat()


class FakeVismaGlobal:
    VERSION = "13.4"

    def __init__(
        self,
        *,
        company: str = "DEMO",
        path: str | Path | None = None,
        rate_limit: int = 0,
        rate_window: float = 1.0,
        seed: int = 7,
    ):
        self.path = Path(path) if path else None
        self.lock = threading.RLock()
        self.random = random.Random(seed)  # noqa: S311 (fault injection)
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.calls: collections.deque[float] = collections.deque()
        self.calls_log: list[tuple[float, str, str]] = []  # (time, method, fault)
        self.faults = {"error": 0.0, "timeout": 0.0}
        self.late_commit_seconds = 0.5
        self.inject: dict[str, int] = collections.Counter()  # register → late commits to give
        self.late_commits = 0
        self.unlicensed: set[str] = set()
        self.data: dict[str, Any] = {
            "company": company,
            "records": {register: {} for register in KEYS},
            "series": {
                name: {"From": a, "To": b, "Next": a} for name, (a, b) in DEFAULT_SERIES.items()
            },
            "customer_types": copy.deepcopy(DEFAULT_TYPES),
            "invoices": {},
            "supplier_invoices": {},
        }
        if self.path and self.path.exists():
            self.data = json.loads(self.path.read_text("utf-8"))

    # Housekeeping ---------------------------------------------------------------------
    def _save(self) -> None:
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True), "utf-8")
            tmp.replace(self.path)

    def _admit(self, method: str, register: str = "", *, write: bool = False) -> str:
        """Count the call; refuse it beyond the rate limit or without the module; return
        the fault to apply ("" none, "timeout", "late_commit")."""
        now = time.monotonic()
        with self.lock:
            if self.rate_limit:
                while self.calls and now - self.calls[0] >= self.rate_window:
                    self.calls.popleft()
                if len(self.calls) >= self.rate_limit:
                    self.calls_log.append((now, method, "rate_refused"))
                    raise VismaGlobalError("temporary", "Visma Global is busy: too many calls.")
                self.calls.append(now)
            module = MODULES.get(register)
            if module and module in self.unlicensed:
                self.calls_log.append((now, method, ""))
                raise VismaGlobalError(
                    "permission", f"The {module} module is not licensed in this company."
                )
            if write and self.inject.get(register):
                self.inject[register] -= 1
                self.calls_log.append((now, method, "late_commit"))
                return "late_commit"
            roll = self.random.random()
            if roll < self.faults["error"]:
                self.calls_log.append((now, method, "error_500"))
                raise VismaGlobalError(
                    "temporary", "Visma Global: the database is locked (error 500)."
                )
            if write and roll < self.faults["error"] + self.faults["timeout"]:
                self.calls_log.append((now, method, "timeout"))
                return "timeout"
            self.calls_log.append((now, method, ""))
            return ""

    def max_in_window(self) -> int:
        times = [t for t, _m, fault in self.calls_log if fault != "rate_refused"]
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= self.rate_window:
                start += 1
            best = max(best, end - start + 1)
        return best

    # The interface --------------------------------------------------------------------
    def version(self) -> str:
        return self.VERSION

    def company(self) -> str:
        return self.data["company"]

    def check(self) -> list[str]:
        return []

    def number_series(self) -> list[dict[str, Any]]:
        self._admit("number_series")
        return [{"Register": name, **series} for name, series in self.data["series"].items()]

    def customer_types(self) -> list[dict[str, Any]]:
        self._admit("customer_types")
        return copy.deepcopy(self.data["customer_types"])

    def _register(self, register: str) -> dict[str, dict]:
        if register not in KEYS:
            raise VismaGlobalError("permanent", f"Unknown register {register!r}.")
        return self.data["records"][register]

    def list(self, register: str, *, changed_since: str | None = None) -> list[dict[str, Any]]:
        self._admit(f"{register}.list", register)
        with self.lock:
            rows = self._register(register).values()
            return [
                copy.deepcopy(row)
                for row in rows
                if not changed_since or row.get("Changed", "") >= changed_since
            ]

    def get(self, register: str, key: str) -> dict[str, Any] | None:
        self._admit(f"{register}.get", register)
        with self.lock:
            row = self._register(register).get(str(key))
            return copy.deepcopy(row) if row else None

    def find(self, register: str, field: str, value: str) -> dict[str, Any] | None:
        self._admit(f"{register}.find", register)
        with self.lock:
            for row in self._register(register).values():
                if str(row.get(field, "")) == str(value):
                    return copy.deepcopy(row)
        return None

    def _check_fields(self, register: str, fields: dict[str, Any]) -> None:
        allowed = FIELDS[register] | ({KEYS[register]} if register == "order" else set())
        unknown = sorted(set(fields) - allowed)
        if unknown:
            raise VismaGlobalError(
                "permanent", f"Field {unknown[0]} does not exist in the {register} register."
            )
        nested = {"Addresses": ADDRESS_FIELDS, "Contacts": CONTACT_FIELDS, "Rows": ORDER_ROW_FIELDS}
        for name, allowed_nested in nested.items():
            for item in fields.get(name) or []:
                extra = sorted(set(item) - allowed_nested)
                if extra:
                    raise VismaGlobalError(
                        "permanent", f"Field {name}.{extra[0]} does not exist in Visma Global."
                    )
        if register == "customer" and "CustomerTypeNo" in fields:
            types = {row["CustomerTypeNo"] for row in self.data["customer_types"]}
            if fields["CustomerTypeNo"] not in types:
                raise VismaGlobalError(
                    "permanent", f"Customer type {fields['CustomerTypeNo']} does not exist."
                )
        if (
            register == "project"
            and fields.get("CustomerNo")
            and str(fields["CustomerNo"]) not in self.data["records"]["customer"]
        ):
            raise VismaGlobalError("permanent", f"Customer {fields['CustomerNo']} does not exist.")
        if register == "order":
            if str(fields.get("CustomerNo", "")) not in self.data["records"]["customer"]:
                raise VismaGlobalError(
                    "permanent", f"Customer {fields.get('CustomerNo')} does not exist."
                )
            articles = self.data["records"]["article"]
            for row in fields.get("Rows") or []:
                if row.get("ArticleNo") and str(row["ArticleNo"]) not in articles:
                    raise VismaGlobalError(
                        "permanent", f"Article {row['ArticleNo']} does not exist."
                    )

    def _next_number(self, series_name: str) -> str:
        series = self.data["series"][series_name]
        records = self.data["records"].get(series_name, {})
        while str(series["Next"]) in records:
            series["Next"] += 1
        if series["Next"] > series["To"]:
            raise VismaGlobalError("permanent", f"The {series_name} number series is used up.")
        number = series["Next"]
        series["Next"] += 1
        return str(number)

    def _apply_create(self, register: str, fields: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            records = self._register(register)
            key_field = KEYS[register]
            key = str(fields.get(key_field) or "").strip()
            if not key:
                if register not in self.data["series"]:
                    raise VismaGlobalError("permanent", f"{key_field} is required.")
                key = self._next_number(register)
            elif register in self.data["series"]:
                series = self.data["series"][register]
                if (
                    key.isdigit()
                    and series["From"] <= int(key) <= series["To"]
                    and int(key) >= series["Next"]
                ):
                    raise VismaGlobalError(
                        "permanent",
                        f"{key_field} {key} lies ahead in the {register} number series.",
                    )
            if key in records:
                raise VismaGlobalError("permanent", f"{key_field} {key} exists already.")
            row = {**copy.deepcopy(fields), key_field: key, "Changed": _now()}
            if register == "order":
                row["Status"] = "Order"
            records[key] = row
            self._save()
            return copy.deepcopy(row)

    def _write(self, register: str, method: str, apply) -> dict[str, Any]:
        fault = self._admit(f"{register}.{method}", register, write=True)
        if fault == "late_commit":
            self.late_commits += 1
            timer = threading.Timer(self.late_commit_seconds, apply)
            timer.daemon = True
            timer.start()
            raise VismaGlobalError("timeout", "Visma Global did not answer in time.")
        result = apply()
        if fault == "timeout":
            raise VismaGlobalError("timeout", "Visma Global did not answer in time.")
        return result

    def create(self, register: str, fields: dict[str, Any]) -> dict[str, Any]:
        self._check_fields(register, fields)
        return self._write(register, "create", lambda: self._apply_create(register, fields))

    def update(self, register: str, key: str, fields: dict[str, Any]) -> dict[str, Any]:
        self._check_fields(register, fields)
        if register == "order":
            raise VismaGlobalError("permanent", "An order is changed in Visma Global only.")

        def apply() -> dict[str, Any]:
            with self.lock:
                records = self._register(register)
                row = records.get(str(key))
                if row is None:
                    raise VismaGlobalError("not_found", f"{KEYS[register]} {key} does not exist.")
                row.update(copy.deepcopy(fields))
                row["Changed"] = _now()
                self._save()
                return copy.deepcopy(row)

        return self._write(register, "update", apply)

    def order_states(self, *, changed_since: str | None = None) -> list[dict[str, Any]]:
        self._admit("order.states", "order")
        with self.lock:
            states = []
            for order in self.data["records"]["order"].values():
                invoice = self.data["invoices"].get(order.get("InvoiceNo") or "", {})
                changed = max(order.get("Changed", ""), invoice.get("Changed", ""))
                if changed_since and changed < changed_since:
                    continue
                states.append(
                    {
                        "OrderNo": order["OrderNo"],
                        "ExternalRef": order.get("ExternalRef", ""),
                        "InvoiceNo": order.get("InvoiceNo", ""),
                        "Sent": bool(invoice.get("Sent")),
                        "Paid": bool(invoice.get("Paid")),
                    }
                )
            return states

    def supplier_invoices(self, *, changed_since: str | None = None) -> list[dict[str, Any]]:
        self._admit("supplier_invoice.list", "supplier_invoice")
        with self.lock:
            return [
                copy.deepcopy(row)
                for row in self.data["supplier_invoices"].values()
                if not changed_since or row.get("Changed", "") >= changed_since
            ]

    # What a person does in Visma Global -------------------------------------------------
    def order_to_invoice(self, order_no: str) -> str:
        with self.lock:
            order = self.data["records"]["order"][str(order_no)]
            if order.get("InvoiceNo"):
                return order["InvoiceNo"]
            number = self._next_number("invoice")
            self.data["invoices"][number] = {
                "InvoiceNo": number,
                "OrderNo": order["OrderNo"],
                "Sent": False,
                "Paid": False,
                "Changed": _now(),
            }
            order["InvoiceNo"] = number
            order["Status"] = "Invoiced"
            order["Changed"] = _now()
            self._save()
            return number

    def invoice_send(self, invoice_no: str) -> None:
        with self.lock:
            invoice = self.data["invoices"][str(invoice_no)]
            invoice.update(Sent=True, Changed=_now())
            self._save()

    def invoice_pay(self, invoice_no: str) -> None:
        with self.lock:
            invoice = self.data["invoices"][str(invoice_no)]
            if not invoice["Sent"]:
                raise VismaGlobalError("permanent", "An invoice is sent before it is paid.")
            invoice.update(Paid=True, Changed=_now())
            self._save()

    def supplier_invoice_add(
        self, *, number: str, supplier: str, date: str, rows: list[dict[str, Any]]
    ) -> None:
        with self.lock:
            self.data["supplier_invoices"][str(number)] = {
                "SupplierInvoiceNo": str(number),
                "SupplierName": supplier,
                "InvoiceDate": date,
                "Rows": [{"RowNo": index + 1, **row} for index, row in enumerate(rows)],
                "Changed": _now(),
            }
            self._save()

    def records(self, register: str) -> list[dict[str, Any]]:
        """Every record of `register`, without counting a call (tests and demos)."""
        with self.lock:
            return copy.deepcopy(list(self.data["records"][register].values()))
