"""The records of one fake Fortnox company: resource descriptions, validation and the
computed fields (invoice totals, balances), all in PascalCase as Fortnox writes them.

Only what Fortnox's public API documentation records is modelled; error codes it does not
name are marked [U] and kept in one place (``Code``).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# The value that clears a field at Fortnox.
BLANK = "API_BLANK"


class Code:
    """ErrorInformation codes. Documented ones per the notes; [U] where the notes are silent."""

    SYSTEM_EXCEPTION = 1000003
    NOT_NUMERIC = 2000108
    NOT_BOOLEAN = 2000134
    INVALID_LOGIN = 2000311
    INVALID_PARAMETER = 2000588
    CUSTOMER_NUMBER_USED = 2000637
    ARTICLE_NUMBER_USED = 2000013
    NO_VALID_IDENTIFIER = 2000729
    NO_LICENCE_FOR_SCOPE = 2001101
    EMPTY_OR_INCORRECT_BODY = 2001392
    INVALID_FIELD_NAME = 2001399
    JSON_SYNTAX_ERROR = 2002115
    CUSTOMER_NOT_FOUND = 2000433  # "Kan inte hitta kunden.", seen in public test fixtures
    # [U] from here on: the notes name no code for these cases.
    NOT_FOUND = 2000430
    REQUIRED_FIELD = 2000590
    UNKNOWN_REFERENCE = 2000591
    DUPLICATE_KEY = 2000592
    INVALID_VALUE = 2000593
    INVOICE_LOCKED = 2000594
    RATE_LIMITED = 2000429


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict:
        return {"ErrorInformation": {"error": 1, "message": self.message, "code": self.code}}


STRING, DECIMAL, INTEGER, BOOLEAN, DATE, ROWS, OBJECT = (
    "string",
    "decimal",
    "integer",
    "boolean",
    "date",
    "rows",
    "object",
)


@dataclass(frozen=True)
class Resource:
    path: str  # "customers"
    single: str  # "Customer"
    plural: str  # "Customers"
    key: str  # "CustomerNumber"
    scope: str
    fields: dict[str, str]  # writable field -> type
    read_only: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    max_length: dict[str, int] = field(default_factory=dict)
    enums: dict[str, frozenset[str]] = field(default_factory=dict)
    list_fields: tuple[str, ...] = ()
    row_field: str | None = None
    row_fields: dict[str, str] = field(default_factory=dict)
    searchable: tuple[str, ...] = ()  # lower-case query parameter -> field of that name
    auto_key: bool = True
    not_found_code: int = Code.NOT_FOUND
    duplicate_code: int = Code.DUPLICATE_KEY
    actions: tuple[str, ...] = ()
    writable: bool = True

    def field_type(self, name: str) -> str | None:
        return self.fields.get(name) or self.read_only.get(name)


def _s(*names: str) -> dict[str, str]:
    return dict.fromkeys(names, STRING)


CUSTOMERS = Resource(
    path="customers",
    single="Customer",
    plural="Customers",
    key="CustomerNumber",
    scope="customer",
    fields={
        **_s(
            "CustomerNumber",
            "Name",
            "OrganisationNumber",
            "VATNumber",
            "Type",
            "VATType",
            "Address1",
            "Address2",
            "City",
            "ZipCode",
            "CountryCode",
            "DeliveryName",
            "DeliveryAddress1",
            "DeliveryAddress2",
            "DeliveryCity",
            "DeliveryZipCode",
            "DeliveryCountryCode",
            "DeliveryPhone1",
            "DeliveryPhone2",
            "DeliveryFax",
            "VisitingAddress",
            "VisitingCity",
            "VisitingZipCode",
            "VisitingCountryCode",
            "Email",
            "EmailInvoice",
            "EmailInvoiceCC",
            "EmailInvoiceBCC",
            "Phone1",
            "Phone2",
            "Fax",
            "WWW",
            "Currency",
            "TermsOfPayment",
            "TermsOfDelivery",
            "WayOfDelivery",
            "PriceList",
            "CostCenter",
            "Project",
            "SalesAccount",
            "OurReference",
            "YourReference",
            "ExternalReference",
            "GLN",
            "GLNDelivery",
            "InvoiceRemark",
            "Comments",
        ),
        "Active": BOOLEAN,
        "ShowPriceVATIncluded": BOOLEAN,
        "InvoiceDiscount": DECIMAL,
        "DefaultDeliveryTypes": OBJECT,
    },
    read_only=_s("Country", "DeliveryCountry", "VisitingCountry"),
    required=("Name",),
    max_length={"Name": 1024, "ZipCode": 10, "CountryCode": 2, "Currency": 3, "WWW": 128},
    enums={
        "Type": frozenset({"PRIVATE", "COMPANY"}),
        "VATType": frozenset({"SEVAT", "SEREVERSEDVAT", "EUREVERSEDVAT", "EUVAT", "EXPORT"}),
    },
    list_fields=(
        "@url",
        "Address1",
        "Address2",
        "City",
        "CustomerNumber",
        "Email",
        "Name",
        "OrganisationNumber",
        "Phone",
        "ZipCode",
    ),
    searchable=("customernumber", "name", "zipcode", "city", "email", "organisationnumber"),
    not_found_code=Code.CUSTOMER_NOT_FOUND,
    duplicate_code=Code.CUSTOMER_NUMBER_USED,
)

ARTICLES = Resource(
    path="articles",
    single="Article",
    plural="Articles",
    key="ArticleNumber",
    scope="article",
    fields={
        **_s(
            "ArticleNumber",
            "Description",
            "Unit",
            "Type",
            "EAN",
            "Note",
            "SupplierNumber",
            "Manufacturer",
            "ManufacturerArticleNumber",
            "StockPlace",
        ),
        "PurchasePrice": DECIMAL,
        "VAT": DECIMAL,
        "Active": BOOLEAN,
        "StockGoods": BOOLEAN,
        "Housework": BOOLEAN,
        "WebshopArticle": BOOLEAN,
        "Expired": BOOLEAN,
        "SalesAccount": INTEGER,
        "PurchaseAccount": INTEGER,
    },
    # SalesPrice is written through /3/prices, never on the article.
    read_only={"SalesPrice": DECIMAL, "QuantityInStock": DECIMAL, "StockValue": DECIMAL},
    required=("Description",),
    max_length={"ArticleNumber": 50, "Description": 200, "EAN": 30},
    enums={"Type": frozenset({"STOCK", "SERVICE"})},
    list_fields=(
        "@url",
        "ArticleNumber",
        "Description",
        "EAN",
        "Housework",
        "PurchasePrice",
        "SalesPrice",
        "QuantityInStock",
        "StockPlace",
        "StockValue",
        "Unit",
        "VAT",
        "WebshopArticle",
    ),
    searchable=("articlenumber", "description"),
    duplicate_code=Code.ARTICLE_NUMBER_USED,
)

UNITS = Resource(
    path="units",
    single="Unit",
    plural="Units",
    key="Code",
    scope="settings",  # [U] the notes' scope table was cut off before Units
    fields=_s("Code", "Description", "CodeEnglish"),
    required=("Code", "Description"),
    max_length={"Code": 20, "Description": 100, "CodeEnglish": 100},
    list_fields=("@url", "Code", "Description", "CodeEnglish"),
    auto_key=False,
)

PROJECTS = Resource(
    path="projects",
    single="Project",
    plural="Projects",
    key="ProjectNumber",
    scope="project",
    fields={
        **_s(
            "ProjectNumber", "Description", "Status", "ProjectLeader", "ContactPerson", "Comments"
        ),
        "StartDate": DATE,
        "EndDate": DATE,
    },
    required=("Description",),
    max_length={"ProjectNumber": 20, "Description": 50, "Comments": 512},
    enums={"Status": frozenset({"NOTSTARTED", "ONGOING", "COMPLETED"})},
    list_fields=(
        "@url",
        "ProjectNumber",
        "Description",
        "Status",
        "StartDate",
        "EndDate",
        "ProjectLeader",
    ),
)

COST_CENTERS = Resource(
    path="costcenters",
    single="CostCenter",
    plural="CostCenters",
    key="Code",
    scope="costcenter",
    fields={**_s("Code", "Description", "Note"), "Active": BOOLEAN},
    required=("Code", "Description"),
    max_length={"Code": 6},
    list_fields=("@url", "Code", "Description", "Note", "Active"),
    auto_key=False,
)

SUPPLIERS = Resource(
    path="suppliers",
    single="Supplier",
    plural="Suppliers",
    key="SupplierNumber",
    scope="supplier",
    fields={
        **_s(
            "SupplierNumber",
            "Name",
            "OrganisationNumber",
            "VATNumber",
            "Address1",
            "Address2",
            "ZipCode",
            "City",
            "CountryCode",
            "Email",
            "Currency",
        ),
        "Active": BOOLEAN,
    },
    required=("Name",),
    list_fields=("@url", "SupplierNumber", "Name", "OrganisationNumber", "Email", "Active"),
)

INVOICE_ROW_FIELDS = {
    **_s(
        "ArticleNumber", "Description", "Unit", "DiscountType", "CostCenter", "Project", "VATCode"
    ),
    "DeliveredQuantity": DECIMAL,
    "Price": DECIMAL,
    "Discount": DECIMAL,
    "VAT": DECIMAL,
    "AccountNumber": INTEGER,
    "RowId": INTEGER,
}

INVOICES = Resource(
    path="invoices",
    single="Invoice",
    plural="Invoices",
    key="DocumentNumber",
    scope="invoice",
    fields={
        **_s(
            "CustomerNumber",
            "InvoiceType",
            "Project",
            "CostCenter",
            "YourOrderNumber",
            "YourReference",
            "OurReference",
            "ExternalInvoiceReference1",
            "ExternalInvoiceReference2",
            "Currency",
            "TermsOfPayment",
            "PriceList",
            "Language",
            "WayOfDelivery",
            "TermsOfDelivery",
            "Remarks",
            "Comments",
            "OCR",
            "CustomerName",
            "Address1",
            "Address2",
            "ZipCode",
            "City",
            "Country",
        ),
        "InvoiceDate": DATE,
        "DueDate": DATE,
        "DeliveryDate": DATE,
        "VATIncluded": BOOLEAN,
        "NotCompleted": BOOLEAN,
        "Freight": DECIMAL,
        "AdministrationFee": DECIMAL,
        "EmailInformation": OBJECT,
        "InvoiceRows": ROWS,
    },
    read_only={
        "DocumentNumber": STRING,
        "Booked": BOOLEAN,
        "Cancelled": BOOLEAN,
        "Sent": BOOLEAN,
        "Balance": DECIMAL,
        "FinalPayDate": DATE,
        "Net": DECIMAL,
        "Gross": DECIMAL,
        "Total": DECIMAL,
        "TotalVAT": DECIMAL,
        "TotalToPay": DECIMAL,
        "RoundOff": DECIMAL,
        "OrganisationNumber": STRING,
    },
    required=("CustomerNumber",),
    max_length={
        "YourOrderNumber": 75,
        "ExternalInvoiceReference1": 80,
        "ExternalInvoiceReference2": 80,
        "Remarks": 1024,
        "Comments": 1024,
    },
    enums={
        "InvoiceType": frozenset(
            {"INVOICE", "AGREEMENTINVOICE", "INTRESTINVOICE", "SUMMARYINVOICE", "CASHINVOICE"}
        ),
        "Language": frozenset({"SV", "EN"}),
    },
    list_fields=(
        "@url",
        "Balance",
        "Booked",
        "Cancelled",
        "CostCenter",
        "Currency",
        "CustomerName",
        "CustomerNumber",
        "DocumentNumber",
        "DueDate",
        "ExternalInvoiceReference1",
        "ExternalInvoiceReference2",
        "InvoiceDate",
        "InvoiceType",
        "OCR",
        "WayOfDelivery",
        "TermsOfPayment",
        "Project",
        "Sent",
        "Total",
        "FinalPayDate",
    ),
    row_field="InvoiceRows",
    row_fields=INVOICE_ROW_FIELDS,
    searchable=(
        "customernumber",
        "customername",
        "documentnumber",
        "externalinvoicereference1",
        "externalinvoicereference2",
        "project",
        "costcenter",
        "yourreference",
        "ocr",
    ),
    auto_key=True,
    actions=("bookkeep", "cancel", "externalprint", "email"),
)

INVOICE_PAYMENTS = Resource(
    path="invoicepayments",
    single="InvoicePayment",
    plural="InvoicePayments",
    key="Number",
    scope="payment",
    fields={
        **_s("InvoiceNumber", "Currency", "ModeOfPayment", "Source"),
        "Amount": DECIMAL,
        "AmountCurrency": DECIMAL,
        "PaymentDate": DATE,
    },
    read_only={"Number": STRING, "Booked": BOOLEAN, "InvoiceCustomerNumber": STRING},
    required=("InvoiceNumber", "Amount"),
    list_fields=(
        "@url",
        "Number",
        "InvoiceNumber",
        "Amount",
        "Booked",
        "Currency",
        "PaymentDate",
        "InvoiceCustomerNumber",
    ),
    searchable=("invoicenumber",),
    actions=("bookkeep",),
)

SUPPLIER_INVOICE_ROW_FIELDS = {
    **_s(
        "AccountDescription",
        "Code",
        "Project",
        "CostCenter",
        "ArticleNumber",
        "ItemDescription",
        "TransactionInformation",
    ),
    "Account": INTEGER,
    "Debit": DECIMAL,
    "Credit": DECIMAL,
    "Price": DECIMAL,
    "Quantity": DECIMAL,
}

SUPPLIER_INVOICES = Resource(
    path="supplierinvoices",
    single="SupplierInvoice",
    plural="SupplierInvoices",
    key="GivenNumber",
    scope="supplierinvoice",
    fields={
        **_s(
            "SupplierNumber",
            "InvoiceNumber",
            "Currency",
            "Project",
            "CostCenter",
            "Comments",
            "OCR",
            "YourReference",
            "OurReference",
            "VATType",
            "SalesType",
        ),
        "InvoiceDate": DATE,
        "DueDate": DATE,
        "Total": DECIMAL,
        "VAT": DECIMAL,
        "SupplierInvoiceRows": ROWS,
    },
    read_only={
        "GivenNumber": STRING,
        "SupplierName": STRING,
        "Booked": BOOLEAN,
        "Cancelled": BOOLEAN,
        "Balance": DECIMAL,
        "FinalPayDate": DATE,
    },
    required=("SupplierNumber",),
    enums={"VATType": frozenset({"NORMAL", "EUINTERNAL", "REVERSE"})},
    list_fields=(
        "@url",
        "GivenNumber",
        "SupplierNumber",
        "SupplierName",
        "InvoiceNumber",
        "InvoiceDate",
        "DueDate",
        "Total",
        "VAT",
        "Balance",
        "Booked",
        "Cancelled",
        "Currency",
        "FinalPayDate",
    ),
    row_field="SupplierInvoiceRows",
    row_fields=SUPPLIER_INVOICE_ROW_FIELDS,
    searchable=("suppliernumber", "invoicenumber", "project"),
    actions=("bookkeep", "cancel"),
)

RESOURCES: dict[str, Resource] = {
    resource.path: resource
    for resource in (
        CUSTOMERS,
        ARTICLES,
        UNITS,
        PROJECTS,
        COST_CENTERS,
        SUPPLIERS,
        INVOICES,
        INVOICE_PAYMENTS,
        SUPPLIER_INVOICES,
    )
}


def _convert(name: str, kind: str, value: Any) -> Any:
    if value is None or kind in (OBJECT, ROWS):
        return value
    if kind == STRING:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ApiError(400, Code.INVALID_VALUE, f"Ogiltigt värde för fält {name}.")
        return str(value)
    if kind in (DECIMAL, INTEGER):
        if isinstance(value, bool):
            raise ApiError(400, Code.NOT_NUMERIC, f"Värdet för {name} måste vara numeriskt.")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ApiError(
                400, Code.NOT_NUMERIC, f"Värdet för {name} måste vara numeriskt."
            ) from None
        if not number.is_finite() or (kind == INTEGER and number != number.to_integral_value()):
            raise ApiError(400, Code.NOT_NUMERIC, f"Värdet för {name} måste vara numeriskt.")
        return int(number) if kind == INTEGER else number
    if kind == BOOLEAN:
        if not isinstance(value, bool):
            raise ApiError(400, Code.NOT_BOOLEAN, f"Värdet för {name} måste vara true/false.")
        return value
    if kind == DATE:
        try:
            datetime.date.fromisoformat(str(value))
        except ValueError:
            raise ApiError(400, Code.INVALID_VALUE, f"Ogiltigt datum för {name}.") from None
        return str(value)
    raise AssertionError(kind)


def clean(resource: Resource, payload: Any, *, creating: bool) -> dict:
    """The writable fields of `payload` converted to stored types; ApiError otherwise."""
    if not isinstance(payload, dict):
        raise ApiError(400, Code.EMPTY_OR_INCORRECT_BODY, "Tom eller felaktig body.")
    data: dict[str, Any] = {}
    for name, value in payload.items():
        if name == "@url" or name in resource.read_only:
            continue  # read-only fields are ignored, so a record read can be written back
        kind = resource.fields.get(name)
        if kind is None:
            # Read-only and unknown fields alike are refused: a client writing them has a bug.
            raise ApiError(400, Code.INVALID_FIELD_NAME, f"Ogiltigt fältnamn ({name}).")
        if value == BLANK:
            data[name] = None  # the one way to clear a field
            continue
        if value == "" and not creating:
            continue  # an empty string leaves the field as it is
        if kind == ROWS:
            data[name] = [_clean_row(resource, row) for row in (value or [])]
            continue
        value = _convert(name, kind, value)
        if isinstance(value, str):
            if name in resource.max_length and len(value) > resource.max_length[name]:
                raise ApiError(
                    400,
                    Code.INVALID_VALUE,
                    f"{name} får vara högst {resource.max_length[name]} tecken.",
                )
            if name in resource.enums and value not in resource.enums[name]:
                raise ApiError(400, Code.INVALID_VALUE, f"Ogiltigt värde för {name}: {value}.")
        data[name] = value
    if creating:
        for name in resource.required:
            if name == resource.key and resource.auto_key:
                continue
            if data.get(name) in (None, ""):
                raise ApiError(400, Code.REQUIRED_FIELD, f"Fältet {name} är obligatoriskt.")
    else:
        for name in resource.required:
            if name in data and data[name] in (None, ""):
                raise ApiError(400, Code.REQUIRED_FIELD, f"Fältet {name} är obligatoriskt.")
    return data


def _clean_row(resource: Resource, row: Any) -> dict:
    if not isinstance(row, dict):
        raise ApiError(400, Code.EMPTY_OR_INCORRECT_BODY, "Tom eller felaktig body.")
    cleaned = {}
    for name, value in row.items():
        if name in READ_ONLY_ROW_FIELDS:
            continue
        kind = resource.row_fields.get(name)
        if kind is None:
            raise ApiError(400, Code.INVALID_FIELD_NAME, f"Ogiltigt fältnamn ({name}).")
        cleaned[name] = _convert(name, kind, value)
    return cleaned


READ_ONLY_ROW_FIELDS = frozenset(
    {"Total", "TotalExcludingVAT", "PriceExcludingVAT", "ContributionValue", "ContributionPercent"}
)
CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def invoice_totals(invoice: dict) -> None:
    """Fill the read-only totals of an invoice from its rows (VAT per row, in percent)."""
    net = Decimal(0)
    vat = Decimal(0)
    for row in invoice.get("InvoiceRows", []):
        quantity = row.get("DeliveredQuantity") or Decimal(0)
        price = row.get("Price") or Decimal(0)
        amount = quantity * price
        discount = row.get("Discount") or Decimal(0)
        if row.get("DiscountType") == "AMOUNT":
            amount -= discount
        else:
            amount -= amount * discount / 100
        amount = money(amount)
        row["Total"] = amount
        row["TotalExcludingVAT"] = amount
        net += amount
        vat += money(amount * (row.get("VAT") or Decimal(0)) / 100)
    net += (invoice.get("Freight") or 0) + (invoice.get("AdministrationFee") or 0)
    gross = net + vat
    total = gross.quantize(Decimal(1), rounding=ROUND_HALF_UP) if gross else Decimal(0)
    invoice.update(
        Net=money(net),
        Gross=money(gross),
        TotalVAT=money(vat),
        RoundOff=money(total - gross),
        Total=total,
        TotalToPay=total,
    )


def sort_key(value: Any) -> tuple:
    """Numbers in numeric order before other strings, as Fortnox lists numbered records."""
    text = "" if value is None else str(value)
    if text.isdigit():
        return (0, int(text), text)
    return (1, math.inf, text)


# List items whose numbers Fortnox writes as strings ("25.00"), as the spec types them.
STRING_NUMBER_LISTS = frozenset({"articles"})


def list_item(resource: Resource, record: dict) -> dict:
    if not resource.list_fields:
        return dict(record)
    item = {}
    for name in resource.list_fields:
        if name == "Phone":
            item[name] = record.get("Phone1")
        else:
            item[name] = record.get(name)
        if resource.path in STRING_NUMBER_LISTS and isinstance(item[name], Decimal):
            item[name] = f"{item[name]:.2f}"
    return item


Filter = Callable[[dict, datetime.date], bool]

INVOICE_FILTERS: dict[str, Filter] = {
    "cancelled": lambda r, today: r["Cancelled"],
    "fullypaid": lambda r, today: not r["Cancelled"] and r["Booked"] and r["Balance"] == 0,
    "unpaid": lambda r, today: not r["Cancelled"] and r["Balance"] != 0,
    "unpaidoverdue": lambda r, today: (
        not r["Cancelled"]
        and r["Balance"] != 0
        and datetime.date.fromisoformat(r["DueDate"]) < today
    ),
    "unbooked": lambda r, today: not r["Cancelled"] and not r["Booked"],
}
ACTIVE_FILTERS: dict[str, Filter] = {
    "active": lambda r, today: r.get("Active", True),
    "inactive": lambda r, today: not r.get("Active", True),
}
NAMED_FILTERS: dict[str, dict[str, Filter]] = {
    "invoices": INVOICE_FILTERS,
    "supplierinvoices": INVOICE_FILTERS,
    "customers": ACTIVE_FILTERS,
    "articles": ACTIVE_FILTERS,
}
