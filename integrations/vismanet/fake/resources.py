"""The Visma.net ERP resources the fake serves: their write fields (each scalar in the
``{"value": …}`` wrapper, lines not wrapped) and how a write becomes the plain read record.

Names follow the API's DTOs (camelCase): ``CustomerUpdateDto`` → ``CustomerDto``,
``InventoryUpdateDto`` → ``InventoryDto``, ``ProjectUpdateDto`` → ``ProjectDto``,
``CustomerInvoiceUpdateDto`` → ``CustomerInvoiceDto``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any


class ApiError(Exception):
    """An error answer: validation errors in the ASP.NET shape, the others as
    ``{"message": …}``."""

    def __init__(self, status: int, message: str, *, exception_type: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.exception_type = exception_type

    def body(self) -> dict:
        if self.exception_type:
            return {
                "ExceptionType": self.exception_type,
                "ExceptionMessage": self.message,
                "ExceptionFaultCode": "12000",
                "ExceptionMessageID": "12000_" + self.exception_type.lower(),
                "ExceptionDetails": "",
            }
        return {"message": self.message}


def invalid(message: str) -> ApiError:
    return ApiError(400, message, exception_type="IPPException")


ADDRESS_FIELDS = frozenset(
    {"addressLine1", "addressLine2", "addressLine3", "postalCode", "city", "countryId", "county"}
)
CONTACT_FIELDS = frozenset({"name", "attention", "email", "web", "phone1", "phone2", "fax"})
CUSTOMER_STATUSES = frozenset({"Active", "OnHold", "CreditHold", "Inactive", "OneTime"})
ITEM_STATUSES = frozenset(
    {"Active", "NoSales", "NoPurchases", "NoRequest", "Inactive", "MarkedForDeletion"}
)
ITEM_TYPES = frozenset(
    {
        "NonStockItem",
        "LaborItem",
        "ServiceItem",
        "ChargeItem",
        "ExpenseItem",
        "FinishedGoodItem",
        "ComponentPartItem",
        "SubassemblyItem",
    }
)
PROJECT_STATUSES = frozenset(
    {"Planned", "Active", "Completed", "Cancelled", "OnHold", "PendingApproval"}
)
# Norwegian VAT codes of a Visma.net ERP company (the SAF-T standard codes): output VAT at
# 25 %, 15 % and 12 %, zero-rated, and outside the VAT act.
VAT_CODES = {
    "3": ("Utgående mva, høy sats", Decimal(25)),
    "31": ("Utgående mva, middels sats", Decimal(15)),
    "33": ("Utgående mva, lav sats", Decimal(12)),
    "5": ("Ingen utgående mva (nullsats)", Decimal(0)),
    "6": ("Utenfor mva-loven", Decimal(0)),
}
LINE_OPERATIONS = frozenset({"Insert", "Update", "Delete"})


@dataclass(frozen=True)
class Resource:
    path: str  # under /v1
    key: str  # the read field that is the record's id in the URL
    fields: frozenset[str]  # write fields (wrapped)
    nested: dict[str, frozenset[str]] = field(default_factory=dict)  # wrapped objects
    lines: str = ""  # the unwrapped array of lines
    line_fields: frozenset[str] = frozenset()
    module: str = ""  # what an unlicensed company lacks


RESOURCES: dict[str, Resource] = {
    resource.path: resource
    for resource in (
        Resource(
            "customer",
            "number",
            frozenset(
                {
                    "number",
                    "name",
                    "status",
                    "corporateId",
                    "vatRegistrationId",
                    "mainAddress",
                    "mainContact",
                    "invoiceAddress",
                    "invoiceContact",
                    "deliveryAddress",
                    "currencyId",
                    "creditTermsId",
                    "customerClassId",
                    "vatZoneId",
                    "gln",
                    "note",
                    "overrideNumberSeries",
                }
            ),
            nested={
                "mainAddress": ADDRESS_FIELDS,
                "invoiceAddress": ADDRESS_FIELDS,
                "deliveryAddress": ADDRESS_FIELDS,
                "mainContact": CONTACT_FIELDS,
                "invoiceContact": CONTACT_FIELDS,
            },
            module="Accounts receivable",
        ),
        Resource(
            "inventory",
            "inventoryNumber",
            frozenset(
                {
                    "inventoryNumber",
                    "description",
                    "status",
                    "type",
                    "defaultPrice",
                    "baseUnit",
                    "salesUnit",
                    "purchaseUnit",
                    "itemClass",
                    "postingClass",
                    "vatCode",
                    "kitItem",
                }
            ),
            module="Inventory",
        ),
        Resource(
            "project",
            "projectID",
            frozenset(
                {
                    "projectID",
                    "description",
                    "customer",
                    "status",
                    "hold",
                    "startDate",
                    "endDate",
                    "projectManger",
                    "branch",
                }
            ),
            module="Project accounting",
        ),
        Resource(
            "customerinvoice",
            "referenceNumber",
            frozenset(
                {
                    "customerNumber",
                    "documentDate",
                    "documentDueDate",
                    "currencyId",
                    "creditTermsId",
                    "customerRefNumber",
                    "externalReference",
                    "project",
                    "invoiceText",
                    "hold",
                    "financialPeriod",
                    "paymentReference",
                    "dontPrint",
                    "dontEmail",
                    "sendToAutoInvoice",
                    "note",
                    "branchNumber",
                    "invoiceLines",
                }
            ),
            lines="invoiceLines",
            line_fields=frozenset(
                {
                    "operation",
                    "lineNumber",
                    "inventoryNumber",
                    "description",
                    "quantity",
                    "unitPriceInCurrency",
                    "manualAmountInCurrency",
                    "accountNumber",
                    "vatCodeId",
                    "uom",
                    "discountPercent",
                    "taskId",
                    "subaccount",
                    "note",
                }
            ),
            module="Accounts receivable",
        ),
        Resource("supplierInvoice", "referenceNumber", frozenset(), module="Accounts payable"),
    )
}


def unwrap(value: Any, name: str) -> Any:
    """The value of a wrapped field; a bare value is refused as the API does."""
    if not isinstance(value, dict) or set(value) != {"value"}:
        raise invalid(f"The field '{name}' must be given as {{\"value\": …}}.")
    return value["value"]


def decimal_of(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise invalid(f"The field '{name}' is not a number.") from None


def clean(resource: Resource, payload: Any) -> dict:
    """The plain values of a write (unknown fields and unwrapped scalars refused)."""
    if not isinstance(payload, dict):
        raise invalid("The request body is empty or not an object.")
    unknown = sorted(set(payload) - resource.fields)
    if unknown:
        raise invalid(f"Could not find a property named '{unknown[0]}' on '{resource.path}'.")
    values: dict[str, Any] = {}
    for name, raw in payload.items():
        if name == resource.lines:
            values[name] = clean_lines(resource, raw)
            continue
        value = unwrap(raw, name)
        if name in resource.nested and value is not None:
            if not isinstance(value, dict):
                raise invalid(f"The field '{name}' must be an object.")
            inner_unknown = sorted(set(value) - resource.nested[name])
            if inner_unknown:
                raise invalid(f"Could not find a property named '{inner_unknown[0]}' on '{name}'.")
            value = {inner: unwrap(item, f"{name}.{inner}") for inner, item in value.items()}
        values[name] = value
    return values


def clean_lines(resource: Resource, lines: Any) -> list[dict]:
    if not isinstance(lines, list):
        raise invalid(f"The field '{resource.lines}' must be an array.")
    cleaned = []
    for line in lines:
        if not isinstance(line, dict):
            raise invalid("A line must be an object.")
        unknown = sorted(set(line) - resource.line_fields)
        if unknown:
            raise invalid(f"Could not find a property named '{unknown[0]}' on the line.")
        operation = line.get("operation")
        if operation not in LINE_OPERATIONS:
            raise invalid("Each line needs its operation: Insert, Update or Delete.")
        values: dict[str, Any] = {"operation": operation}
        for name, raw in line.items():
            if name == "operation":
                continue
            if name == "subaccount":
                if not isinstance(raw, list) or any(
                    not isinstance(item, dict) or set(item) - {"segmentId", "segmentValue"}
                    for item in raw
                ):
                    raise invalid("subaccount is an array of {segmentId, segmentValue}.")
                values[name] = raw
                continue
            values[name] = unwrap(raw, name)
        cleaned.append(values)
    return cleaned


def address_read(address: dict | None, address_id: int) -> dict | None:
    if not address:
        return None
    country = address.get("countryId")
    return {
        "addressId": address_id,
        "addressLine1": address.get("addressLine1"),
        "addressLine2": address.get("addressLine2"),
        "addressLine3": address.get("addressLine3"),
        "postalCode": address.get("postalCode"),
        "city": address.get("city"),
        "country": {"id": country, "name": country} if country else None,
        "county": None,
    }


def contact_read(contact: dict | None, contact_id: int) -> dict | None:
    if not contact:
        return None
    return {"contactId": contact_id, **{name: contact.get(name) for name in CONTACT_FIELDS}}
