"""The resources of the fake eEkonomi: their field names (as the eAccounting API v2 spells
them), which are required, read-only or limited in length, the records they refer to, and
the OAuth scope each needs. A field the resource does not know is refused (400)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    kind: str = "str"  # str, uuid, bool, int, num, datetime, list
    max: int | None = None
    required: bool = False
    read_only: bool = False
    refers_to: str | None = None  # the resource path an id field names


def S(max_length: int | None = None, *, required: bool = False) -> Field:  # noqa: N802
    return Field("str", max_length, required)


def RO(kind: str = "str") -> Field:  # noqa: N802
    return Field(kind, read_only=True)


def ID(refers_to: str | None = None, *, required: bool = False) -> Field:  # noqa: N802
    return Field("uuid", required=required, refers_to=refers_to)


BOOL = Field("bool")
BOOL_REQ = Field("bool", required=True)
NUM = Field("num")
INT = Field("int")
DATETIME = Field("datetime")
LIST = Field("list")


@dataclass(frozen=True)
class Resource:
    path: str
    scope: str
    fields: dict[str, Field]
    # Fields whose value is unique in the company (numbers).
    unique: tuple[str, ...] = ()
    writable: bool = True
    deletable: bool = False
    # The timestamp field set on every write.
    stamp: str = "ChangedUtc"
    rows: dict[str, Field] = field(default_factory=dict)


CUSTOMER_FIELDS = {
    "Id": RO("uuid"),
    "CustomerNumber": S(16),
    "Name": S(50, required=True),
    "CorporateIdentityNumber": S(20),
    "VatNumber": S(20),
    "IsPrivatePerson": BOOL_REQ,
    "IsActive": BOOL_REQ,
    "InvoiceAddress1": S(50),
    "InvoiceAddress2": S(50),
    "InvoicePostalCode": S(10, required=True),
    "InvoiceCity": S(50, required=True),
    "InvoiceCountryCode": S(2),
    "DeliveryCustomerName": S(100),
    "DeliveryAddress1": S(50),
    "DeliveryAddress2": S(50),
    "DeliveryPostalCode": S(10),
    "DeliveryCity": S(50),
    "DeliveryCountryCode": S(2),
    "EmailAddress": S(255),
    "EmailAddressOrder": S(255),
    "EmailAddressQuote": S(255),
    "ContactPersonName": S(100),
    "ContactPersonEmail": S(255),
    "ContactPersonPhone": S(50),
    "ContactPersonMobile": S(50),
    "Telephone": S(50),
    "MobilePhone": S(50),
    "WwwAddress": S(255),
    "CurrencyCode": S(3),
    "TermsOfPaymentId": ID("termsofpayment", required=True),
    "TermsOfPayment": RO("object"),
    "DeliveryMethodId": ID(),
    "DeliveryTermId": ID(),
    "ReverseChargeOnConstructionServices": BOOL,
    "Note": S(4000),
    "EdiGlnNumber": S(255),
    "ElectronicAddress": S(255),
    "ElectronicReference": S(35),
    "SalesDocumentLanguage": S(2),
    "DiscountPercentage": NUM,
    "PayToAccountId": ID(),
    "SalesPriceListId": ID(),
    "DiscountAgreementId": ID(),
    "CustomerLabels": LIST,
    "UnpaidInvoicesAmount": NUM,
    "ChangedUtc": RO("datetime"),
    "LastInvoiceDate": RO("datetime"),
}

ARTICLE_FIELDS = {
    "Id": RO("uuid"),
    "Number": S(40, required=True),
    "Name": S(50, required=True),
    "NameEnglish": S(50),
    "IsActive": BOOL_REQ,
    "NetPrice": NUM,
    "GrossPrice": NUM,
    "NetPriceWithDiscount": RO("num"),
    "CodingId": ID("articleaccountcodings", required=True),
    "CodingName": RO(),
    "UnitId": ID("units", required=True),
    "UnitName": RO(),
    "UnitAbbreviation": RO(),
    "PurchasePrice": NUM,
    "IsServiceArticle": BOOL,
    "IsStock": BOOL,
    "StockBalance": RO("num"),
    "StockBalanceReserved": RO("num"),
    "StockBalanceAvailable": RO("num"),
    "HouseWorkType": INT,
    "SendToWebshop": BOOL,
    "UsesMoss": BOOL,
    "ArticleLabels": LIST,
    "Barcodes": LIST,
    "CreatedUtc": RO("datetime"),
    "ChangedUtc": RO("datetime"),
}

PROJECT_FIELDS = {
    "Id": RO("uuid"),
    "Number": S(9, required=True),
    "Name": S(200, required=True),
    "StartDate": Field("datetime", required=True),
    "EndDate": DATETIME,
    "CustomerId": ID("customers"),
    "CustomerName": RO(),
    "Notes": S(500),
    "Status": INT,
    "ModifiedUtc": RO("datetime"),
}

COST_CENTER_ITEM_FIELDS = {
    "Id": RO("uuid"),
    "CostCenterId": ID("costcenters", required=True),
    "Name": S(50, required=True),
    "ShortName": S(9, required=True),
    "IsActive": BOOL_REQ,
    "CreatedUtc": RO("datetime"),
}

COST_CENTER_FIELDS = {
    "Id": RO("uuid"),
    "Name": S(20, required=True),
    "Number": RO("int"),
    "IsActive": BOOL,
    "Items": RO("list"),
}

DRAFT_ROW_FIELDS = {
    "Id": RO("uuid"),
    "LineNumber": INT,
    "IsTextRow": BOOL_REQ,
    "ArticleId": ID("articles"),
    "ArticleNumber": RO(),
    "Text": S(2000),
    "UnitPrice": NUM,
    "Quantity": NUM,
    "DiscountPercentage": NUM,
    "UnitId": ID("units"),
    "UnitAbbreviation": RO(),
    "UnitName": RO(),
    "ProjectId": ID("projects"),
    "CostCenterItemId1": ID("costcenteritems"),
    "CostCenterItemId2": ID("costcenteritems"),
    "CostCenterItemId3": ID("costcenteritems"),
    "VatRateId": ID("vatcodes"),
    "ReversedConstructionServicesVatFree": BOOL_REQ,
    "IsWorkCost": BOOL,
    "WorkCostType": INT,
    "WorkHours": NUM,
    "MaterialCosts": NUM,
}

DRAFT_FIELDS = {
    "Id": RO("uuid"),
    "CustomerId": ID("customers", required=True),
    "IsCreditInvoice": BOOL,
    "RotReducedInvoicingType": Field("int", required=True),
    "Rows": LIST,
    "YourReference": S(100),
    "OurReference": S(100),
    "BuyersOrderReference": S(35),
    "ElectronicReference": S(100),
    "InvoiceDate": DATETIME,
    "DueDate": DATETIME,
    "DeliveryDate": DATETIME,
    "EuThirdParty": BOOL_REQ,
    "InvoiceCustomerName": S(50),
    "InvoiceAddress1": S(50),
    "InvoiceAddress2": S(50),
    "InvoicePostalCode": S(10),
    "InvoiceCity": S(50),
    "InvoiceCountryCode": S(2),
    "InvoiceCurrencyCode": S(3),
    "DeliveryCustomerName": S(100),
    "DeliveryAddress1": S(50),
    "DeliveryAddress2": S(50),
    "DeliveryPostalCode": S(10),
    "DeliveryCity": S(50),
    "DeliveryCountryCode": S(2),
    "CustomerNumber": RO(),
    "CustomerName": RO(),
    "IncludesVat": BOOL,
    "ReplaceUnitPriceWhenZero": BOOL,
    "TotalAmount": RO("num"),
    "TotalVatAmount": RO("num"),
    "TotalRoundings": RO("num"),
    "SalesDocumentAttachments": LIST,
    "CreatedUtc": RO("datetime"),
    "ModifiedUtc": RO("datetime"),
}

RESOURCES: dict[str, Resource] = {
    "customers": Resource(
        "customers", "ea:sales", CUSTOMER_FIELDS, unique=("CustomerNumber",), deletable=True
    ),
    "articles": Resource("articles", "ea:sales", ARTICLE_FIELDS, unique=("Number",)),
    "projects": Resource(
        "projects", "ea:sales", PROJECT_FIELDS, unique=("Number",), stamp="ModifiedUtc"
    ),
    "costcenters": Resource("costcenters", "ea:accounting", COST_CENTER_FIELDS, stamp=""),
    "costcenteritems": Resource(
        "costcenteritems", "ea:accounting", COST_CENTER_ITEM_FIELDS, stamp=""
    ),
    "customerinvoicedrafts": Resource(
        "customerinvoicedrafts",
        "ea:sales",
        DRAFT_FIELDS,
        deletable=True,
        stamp="ModifiedUtc",
        rows=DRAFT_ROW_FIELDS,
    ),
    "customerinvoices": Resource(
        "customerinvoices", "ea:sales", {}, writable=False, stamp="ModifiedUtc"
    ),
    "supplierinvoices": Resource(
        "supplierinvoices", "ea:purchase", {}, writable=False, stamp="ModifiedUtc"
    ),
    "units": Resource("units", "ea:api", {}, writable=False, stamp=""),
    "articleaccountcodings": Resource(
        "articleaccountcodings", "ea:sales", {}, writable=False, stamp="ChangedUtc"
    ),
    "termsofpayment": Resource("termsofpayment", "ea:sales", {}, writable=False, stamp=""),
    "vatcodes": Resource("vatcodes", "ea:accounting", {}, writable=False, stamp=""),
}

# Preset registers of a new Swedish company (read-only through the API).
UNITS = (
    ("st", "Styck", "st"),
    ("h", "Timme", "h"),
    ("dag", "Dag", "dag"),
    ("km", "Kilometer", "km"),
    ("kg", "Kilogram", "kg"),
)
# (name, type, VAT rate percent)
CODINGS = (
    ("Tjänster 25 %", "Service", 25),
    ("Tjänster 12 %", "Service", 12),
    ("Tjänster 6 %", "Service", 6),
    ("Tjänster momsfri", "Service", 0),
    ("Varor 25 %", "Goods", 25),
)
# (code, description, rate percent): the Swedish VAT return's boxes.
VAT_CODES = (
    ("10", "Utgående moms 25 %", 25),
    ("11", "Utgående moms 12 %", 12),
    ("12", "Utgående moms 6 %", 6),
    ("39", "Försäljning av tjänster till näringsidkare i annat EU-land", 0),
    ("40", "Övrig försäljning av tjänster omsatta utom landet", 0),
    ("42", "Momsfri försäljning", 0),
)
TERMS_OF_PAYMENT = (("30 dagar netto", 30), ("10 dagar netto", 10))
