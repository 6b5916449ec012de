"""The one interface through which the agent reaches Visma Global.

Records are plain dicts with Visma Global's field names (below, per register). A Windows
implementation (Visma's components, e.g. the Visma Global COM/.NET business objects) is a
class with these methods, named in the agent's config file as `adapter = package.module:Class`
(agent/config.py); `agent.vismaglobal.fake:FakeVismaGlobal` is the complete fake used on
machines without Visma Global.

Every method raises only `VismaGlobalError` (with `kind`): "temporary" (try again later),
"timeout" (a write whose outcome is unknown), "permanent" (refused as given; the message
says why), "permission" (the module is not licensed or the user lacks the right),
"not_found".
"""

from __future__ import annotations

from typing import Any, Protocol

# The registers and their fields, as the fake enforces them (unknown fields are refused).
FIELDS: dict[str, frozenset[str]] = {
    "department": frozenset({"DepartmentNo", "Name"}),
    "employee": frozenset({"EmployeeNo", "FirstName", "LastName", "Email", "Active"}),
    "article": frozenset(
        {"ArticleNo", "Name", "ArticleType", "Unit", "Price", "VatRate", "Active"}
    ),
    "customer": frozenset(
        {
            "CustomerNo",
            "Name",
            "CustomerTypeNo",
            "OrgNo",
            "VatNo",
            "Email",
            "Phone",
            "Addresses",
            "Contacts",
            "Active",
        }
    ),
    "project": frozenset({"ProjectNo", "Name", "CustomerNo", "Status", "DepartmentNo"}),
    "order": frozenset(
        {"CustomerNo", "ProjectNo", "ExternalRef", "OrderDate", "DueDate", "Currency", "Rows"}
    ),
}
# The key field of each register.
KEYS = {
    "department": "DepartmentNo",
    "employee": "EmployeeNo",
    "article": "ArticleNo",
    "customer": "CustomerNo",
    "project": "ProjectNo",
    "order": "OrderNo",
}
ADDRESS_FIELDS = frozenset({"Kind", "Street", "PostalCode", "City", "Country"})
CONTACT_FIELDS = frozenset({"FirstName", "LastName", "Email", "Phone"})
ORDER_ROW_FIELDS = frozenset({"ArticleNo", "Text", "Quantity", "Price", "VatRate", "DepartmentNo"})


class VismaGlobalError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class VismaGlobal(Protocol):
    def version(self) -> str:
        """Visma Global's version (e.g. "13.4")."""

    def company(self) -> str:
        """The company database the agent works in."""

    def check(self) -> list[str]:
        """What is wrong with the access to Visma Global, in words (empty: nothing)."""

    def number_series(self) -> list[dict[str, Any]]:
        """[{"Register": "customer"|"order"|"invoice", "From": int, "To": int, "Next": int}]"""

    def customer_types(self) -> list[dict[str, Any]]:
        """[{"CustomerTypeNo": int, "Name": str}]"""

    def list(self, register: str, *, changed_since: str | None = None) -> list[dict[str, Any]]:
        """The records of `register` (department, employee, article, customer, project,
        order), changed since the ISO time when given."""

    def get(self, register: str, key: str) -> dict[str, Any] | None:
        """One record by its key (None when there is none)."""

    def find(self, register: str, field: str, value: str) -> dict[str, Any] | None:
        """The record whose `field` is `value` (an order by its ExternalRef)."""

    def create(self, register: str, fields: dict[str, Any]) -> dict[str, Any]:
        """A new record; a key left out is taken from the register's number series."""

    def update(self, register: str, key: str, fields: dict[str, Any]) -> dict[str, Any]: ...

    def order_states(self, *, changed_since: str | None = None) -> list[dict[str, Any]]:
        """Each order with what became of it: [{"OrderNo", "ExternalRef", "InvoiceNo",
        "Sent", "Paid"}]."""

    def supplier_invoices(self, *, changed_since: str | None = None) -> list[dict[str, Any]]:
        """Booked supplier invoices with their rows: [{"SupplierInvoiceNo", "SupplierName",
        "InvoiceDate", "Rows": [{"RowNo", "ProjectNo", "ArticleNo", "Text", "Quantity",
        "Amount"}]}]."""
