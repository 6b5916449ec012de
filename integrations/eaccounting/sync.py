"""The Visma eEkonomi sync: one adapter per entity type for the engine
(integrations/engine.py), then the invoice steps that follow eEkonomi's own invoicing.

Rules:

- **Cost centres** (Severa → eEkonomi): each Severa cost centre is an item of eEkonomi's
  cost centre 1 (short name = code, at most 9 characters); invoice rows carry it as
  ``CostCenterItemId1``. Cost centre 1 must be switched on in eEkonomi.
- **Products ↔ articles** both ways, paired by article number = product code. eEkonomi's
  units are read-only: a product whose unit eEkonomi lacks (by code or abbreviation) is
  skipped with that reason, and so is one without a unit. The article's account coding is
  the active service (or goods) coding of the product's VAT rate, else the standard-rate one.
- **Customers** both ways, paired by customer number, then by corporate identity number;
  company or private person as eEkonomi marks it; invoice address ↔ invoice address, postal
  ↔ delivery address. eEkonomi needs an invoice postal code and city.
- **Projects** to eEkonomi only (number at most 9 characters, status 1 ongoing / 2 finished).
- **Invoices** go as *drafts* (``customerinvoicedrafts``) with our reference in
  ``OurReference``; our order reference goes into ``YourReference`` or a text row, as the
  connection chooses. eEkonomi is the master of the real invoice: once a user books the
  draft there, its number and invoice date are written on our invoice; when eEkonomi shows
  it paid it moves to the paid status. A draft deleted without being booked, or an invoice
  credited in eEkonomi, is reported on the invoice's log, never sent again silently.
- **VAT**: each row's code comes from the VAT decision of severa.vat (seller in Sweden):
  domestic rates 25/12/6 % and 0 % → codes 10/11/12/42, reverse charge (a business with a
  valid VAT number in another EU state) → 39, outside the EU → 40.
- **Project fees**: rows of booked supplier invoices with a project come back once each
  (by the row's id) as fees without VAT, with the connection's default product.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.eaccounting.client import EAccountingClient
from integrations.eaccounting.facts import EACCOUNTING_FACTS
from integrations.engine import entity_guard, entity_since, entity_synced, sync_entities
from integrations.errors import (
    AuthorizationError,
    IntegrationError,
    PermanentError,
    PermissionMissing,
)
from integrations.facts import BOTH, TO_LOCAL, TO_REMOTE, SystemFacts
from integrations.local import (
    customer_local,
    customers_changed_since,
    customers_of,
    decimal_of,
    invoice_status_move,
    invoice_status_name,
    invoices_in_status,
    product_local,
    products_changed_since,
    projects_changed_since,
    saved,
    text,
)
from integrations.models import (
    Connection,
    EntityMap,
    OrderReferenceTo,
    SyncRun,
    Transfer,
    TransferDirection,
    TransferOutcome,
)
from records.models import (
    AddressKind,
    CostCentre,
    Customer,
    CustomerInvoice,
    CustomerKind,
    Product,
    ProductKind,
    ProjectFee,
    SalesStatus,
    Unit,
)
from records.models import Project as SeveraProject
from records.services.customers import (
    customer_create,
    customer_update,
    project_fee_create,
    project_fee_update,
)
from records.services.invoices import customer_invoice_update
from records.services.products import product_create, product_update
from severa import clock
from severa.vat import (
    CATEGORY_OUTSIDE_SCOPE,
    CATEGORY_REVERSE_CHARGE,
    buyer_vat_decision,
)

SELLER_COUNTRY = "SE"
# Swedish VAT codes (the VAT return's boxes) by domestic rate, and for the zero-rated sales.
DOMESTIC_VAT_CODES = {Decimal(25): "10", Decimal(12): "11", Decimal(6): "12", Decimal(0): "42"}
REVERSE_CHARGE_VAT_CODE = "39"
OUTSIDE_EU_VAT_CODE = "40"
STANDARD_RATE = Decimal(25)
PAYMENT_STATUS_PAID = 0
PROJECT_ONGOING, PROJECT_FINISHED = 1, 2
# The state of an invoice after its draft (EntityMap "booked_invoice", remote_hash).
BOOKED, PAID, CREDITED, DRAFT_GONE = "booked", "paid", "credited", "draft-gone"


def _day(value: Any) -> datetime.date | None:
    raw = text(value)
    if not raw:
        return None
    return datetime.date.fromisoformat(raw[:10])


class EEkonomiContext:
    """What the adapters of one run share: the connection, the client, eEkonomi's read-only
    registers (read once per run, when needed) and the pairings of other entity types."""

    def __init__(
        self, run: SyncRun, client: EAccountingClient, facts: SystemFacts = EACCOUNTING_FACTS
    ):
        self.run = run
        self.connection: Connection = run.connection
        self.tenant = run.connection.tenant
        self.tenant_id = run.tenant_id
        self.client = client
        self.facts = facts
        self._registers: dict[str, list[dict]] = {}

    def register(self, path: str) -> list[dict]:
        if path not in self._registers:
            self._registers[path] = list(self.client.list(path))
        return self._registers[path]

    def unit_id(self, code: str) -> str | None:
        wanted = code.strip().casefold()
        for unit in self.register("units"):
            if wanted in (
                text(unit.get("Code")).casefold(),
                text(unit.get("Abbreviation")).casefold(),
            ):
                return unit["Id"]
        return None

    def unit_code(self, unit_id: str) -> str:
        for unit in self.register("units"):
            if unit["Id"] == unit_id:
                return text(unit.get("Code"))
        return ""

    def coding(self, *, vat_rate: Decimal, goods: bool) -> dict | None:
        codings = [c for c in self.register("articleaccountcodings") if c.get("IsActive")]
        kind = "Goods" if goods else "Service"
        for rate in (vat_rate, STANDARD_RATE):
            for coding in codings:
                percent = decimal_of(coding.get("VatRatePercent")) * 100
                if coding.get("Type") == kind and percent == rate:
                    return coding
        return None

    def coding_rate(self, coding_id: str) -> Decimal:
        for coding in self.register("articleaccountcodings"):
            if coding["Id"] == coding_id:
                return (decimal_of(coding.get("VatRatePercent")) * 100).normalize()
        return Decimal(0)

    def terms_of_payment_id(self) -> str | None:
        terms = [t for t in self.register("termsofpayment") if t.get("AvailableForSales", True)]
        terms.sort(key=lambda t: (int(t.get("NumberOfDays") or 0) != 30, t.get("Name") or ""))
        return terms[0]["Id"] if terms else None

    def vat_code_id(self, code: str) -> str | None:
        for vat_code in self.register("vatcodes"):
            if text(vat_code.get("Code")) == code:
                return vat_code["Id"]
        return None

    def remote_id(self, entity_type: str, local_id: int | None) -> str | None:
        if local_id is None:
            return None
        return (
            EntityMap.objects.filter(
                connection_id=self.connection.pk, entity_type=entity_type, local_id=local_id
            )
            .exclude(remote_id=None)
            .values_list("remote_id", flat=True)
            .first()
        )

    def local_id(self, entity_type: str, remote_id: str) -> int | None:
        return (
            EntityMap.objects.filter(
                connection_id=self.connection.pk, entity_type=entity_type, remote_id=remote_id
            )
            .values_list("local_id", flat=True)
            .first()
        )

    def log(self, entity_type: str, direction: str, outcome: str, **fields: Any) -> None:
        Transfer.objects.create(
            tenant_id=self.tenant_id,
            run=self.run,
            entity_type=entity_type,
            direction=direction,
            outcome=outcome,
            created_at=clock.now(),
            **fields,
        )
        counts = dict(self.run.counts or {})
        counts[outcome] = counts.get(outcome, 0) + 1
        self.run.counts = counts


class _Adapter:
    """Shared parts: one listing per run to pair existing records, a filtered GET by the
    marker to settle an unclear create, and PUT as eEkonomi does it (the whole record:
    the fields we do not map are sent back as they are)."""

    entity_type = ""
    path = ""
    marker = ""
    stamp = "ChangedUtc"
    directions: frozenset[str] = BOTH
    match_key_only = True

    def __init__(self, context: EEkonomiContext):
        self.context = context
        self.client = context.client
        self.tenant_id = context.tenant_id
        self._listing: dict[str, dict] | None = None
        self._by_id: dict[str, dict] = {}

    def remote_record(self, item: dict) -> RemoteRecord:
        raise NotImplementedError

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        raise NotImplementedError

    def listing(self) -> dict[str, dict]:
        if self._listing is None:
            self._listing = {}
            for item in self.client.list(self.path):
                self._listing.setdefault(text(item.get(self.marker)), item)
                self._by_id[item["Id"]] = item
        return self._listing

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if not local.key:
            return None
        item = self.listing().get(local.key)
        return None if item is None else self.remote_record(item)

    def lookup_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if not local.key:
            return None
        found = self.client.find_by(self.path, self.marker, local.key)
        return None if found is None else self.remote_record(found)

    def read_remote(self, remote_id: str) -> RemoteRecord | None:
        found = self.client.find(self.path, remote_id)
        if found is None:
            return None
        self._by_id[remote_id] = found
        return self.remote_record(found)

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        record = self._by_id.get(remote.id)
        if record is None:
            return False
        return self.context.facts.payload_matches(
            self.remote_payload(local, creating=False), record
        )

    def _kept(self, record: dict) -> RemoteRecord:
        self._by_id[record["Id"]] = record
        if self._listing is not None:
            self._listing[text(record.get(self.marker))] = record
        return self.remote_record(record)

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        payload = {
            name: value
            for name, value in self.remote_payload(local, creating=True).items()
            if value not in (None, "")
        }
        return self._kept(self.client.create(self.path, payload))

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        current = self._by_id.get(remote_id) or self.client.get(self.path, remote_id)
        record = {**current, **self.remote_payload(local, creating=False)}
        return self._kept(self.client.replace(self.path, remote_id, record))

    def list_remote(self, changed_since: datetime.datetime | None) -> list[RemoteRecord]:
        records = []
        for item in self.client.changed(self.path, self.stamp, changed_since):
            self._by_id[item["Id"]] = item
            records.append(self.remote_record(item))
        return records

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        return None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        raise PermanentError(_("These records only go from Severa to eEkonomi."))

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        raise PermanentError(_("These records only go from Severa to eEkonomi."))


# ---------------------------------------------------------------------------- cost centres
class CostCentreAdapter(_Adapter):
    entity_type = "cost_centre"
    path = "costcenteritems"
    marker = "ShortName"
    directions = TO_REMOTE

    def __init__(self, context: EEkonomiContext):
        super().__init__(context)
        self._dimension: dict | None = None

    def dimension(self, *, fresh: bool = False) -> dict | None:
        """eEkonomi's cost centre 1 with its items (one GET a run)."""
        if self._dimension is None or fresh:
            centers = list(self.client.list("costcenters"))
            self._dimension = next((c for c in centers if int(c.get("Number") or 0) == 1), None)
        return self._dimension

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        # Always read: cost centre 1's state decides whether any can go.
        self.dimension()
        centres = CostCentre.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            centres = centres.filter(updated_at__gt=since)
        return [
            LocalRecord(
                id=centre.pk,
                key=centre.code,
                name=centre.name,
                updated_at=centre.updated_at,
                data={"is_active": centre.is_active},
            )
            for centre in centres.order_by("pk")
        ]

    def listing(self) -> dict[str, dict]:
        if self._listing is None:
            dimension = self.dimension() or {}
            self._listing = {
                text(item.get("ShortName")): item for item in dimension.get("Items") or []
            }
            self._by_id.update({item["Id"]: item for item in self._listing.values()})
        return self._listing

    def lookup_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        dimension = self.dimension(fresh=True) or {}
        for item in dimension.get("Items") or []:
            if text(item.get("ShortName")) == local.key:
                return self.remote_record(item)
        return None

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {name: text(item.get(name)) for name in ("ShortName", "Name", "IsActive")}
        return RemoteRecord(id=item["Id"], key=data["ShortName"], name=data["Name"], data=data)

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        dimension = self.dimension()
        if dimension is None or not dimension.get("IsActive"):
            return _(
                "Cost centre 1 is not switched on in eEkonomi: switch it on under Settings → "
                "Cost centres, then sync again."
            )
        if not local.key or len(local.key) > 9:
            return _("eEkonomi cost centre short names have 1 to 9 characters.")
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        payload: dict[str, Any] = {
            "Name": local.name[:50],
            "ShortName": local.key,
            "IsActive": bool(local.data.get("is_active", True)),
        }
        if creating:
            payload["CostCenterId"] = (self.dimension() or {})["Id"]
        return payload

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        current = self._by_id.get(remote_id) or self.client.get(self.path, remote_id)
        record = {
            "CostCenterId": current.get("CostCenterId"),
            **self.remote_payload(local, creating=False),
        }
        return self._kept(self.client.replace(self.path, remote_id, record))


# ---------------------------------------------------------------------------- products
class ProductAdapter(_Adapter):
    entity_type = "product"
    path = "articles"
    marker = "Number"

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        return products_changed_since(self.tenant_id, since)

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {
            "Number": text(item.get("Number")),
            "Name": text(item.get("Name")),
            "IsActive": text(item.get("IsActive")),
            "NetPrice": text(decimal_of(item.get("NetPrice")).normalize()),
            "Unit": self.context.unit_code(text(item.get("UnitId"))),
            "VatRate": text(self.context.coding_rate(text(item.get("CodingId")))),
        }
        return RemoteRecord(id=item["Id"], key=data["Number"], name=data["Name"], data=data)

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key:
            return _("The product needs a code: it is the article number in eEkonomi.")
        unit = local.data.get("unit")
        if not unit:
            return _(
                "eEkonomi needs a unit for every article: give the product one of eEkonomi's units."
            )
        if self.context.unit_id(unit) is None:
            return _(
                "eEkonomi has no unit %(unit)s, and its units cannot be added through the "
                "API: give the product one of eEkonomi's units (%(units)s)."
            ) % {
                "unit": unit,
                "units": ", ".join(text(u.get("Code")) for u in self.context.register("units")),
            }
        if self._coding(local) is None:
            return _("eEkonomi has no active account coding for VAT %(rate)s %%.") % {
                "rate": local.data.get("vat_rate")
            }
        return None

    def _coding(self, local: LocalRecord) -> dict | None:
        return self.context.coding(
            vat_rate=Decimal(local.data.get("vat_rate") or 0),
            goods=local.data.get("kind") == ProductKind.PRODUCT,
        )

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        coding = self._coding(local) or {}
        return {
            "Number": local.key,
            "Name": local.name[:50],
            "IsActive": bool(local.data.get("is_active", True)),
            "NetPrice": local.data.get("price") or Decimal(0),
            "UnitId": self.context.unit_id(local.data.get("unit") or ""),
            "CodingId": coding.get("Id"),
            "IsServiceArticle": local.data.get("kind") != ProductKind.PRODUCT,
        }

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not remote.key.isdigit():
            return _("The article number is not digits only: Severa product codes are digits.")
        unit = remote.data.get("Unit")
        if unit and not Unit.objects.filter(tenant_id=self.tenant_id, code=unit).exists():
            return _("Severa has no unit %(unit)s.") % {"unit": unit}
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        product = (
            Product.objects.filter(tenant_id=self.tenant_id, code=remote.key)
            .select_related("unit")
            .first()
        )
        return None if product is None else product_local(product)

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        unit = remote.data.get("Unit")
        return {
            "code": remote.key,
            "name": remote.name,
            "unit": Unit.objects.filter(tenant_id=self.tenant_id, code=unit).first()
            if unit
            else None,
            "vat_rate": decimal_of(remote.data.get("VatRate")),
            "price": decimal_of(remote.data.get("NetPrice")),
            "is_active": remote.data.get("IsActive") != "false",
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        product = saved(lambda: product_create(tenant=self.context.tenant, data=self._data(remote)))
        return product_local(product)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        product = Product.objects.get(tenant_id=self.tenant_id, pk=local_id)
        product = saved(lambda: product_update(product=product, data=self._data(remote)))
        return product_local(product)


# ---------------------------------------------------------------------------- customers
# Severa address kind → eEkonomi's fields of that address (street, postal code, city,
# country); the invoice address falls back to the postal and office address.
INVOICE_FIELDS = ("InvoiceAddress1", "InvoicePostalCode", "InvoiceCity", "InvoiceCountryCode")
DELIVERY_FIELDS = ("DeliveryAddress1", "DeliveryPostalCode", "DeliveryCity", "DeliveryCountryCode")
CUSTOMER_FIELDS = (
    "CustomerNumber",
    "Name",
    "IsPrivatePerson",
    "CorporateIdentityNumber",
    "VatNumber",
    "EmailAddress",
    "Telephone",
    "ContactPersonName",
    "IsActive",
    *INVOICE_FIELDS,
    *DELIVERY_FIELDS,
)


def _invoice_address(addresses: dict) -> tuple[str, str, str, str] | None:
    for kind in (AddressKind.INVOICE, AddressKind.POSTAL, AddressKind.OFFICE):
        address = addresses.get(kind)
        if address and address[1] and address[2]:
            return address
    return None


class CustomerAdapter(_Adapter):
    entity_type = "customer"
    path = "customers"
    marker = "CustomerNumber"

    def __init__(self, context: EEkonomiContext):
        super().__init__(context)
        # Corporate identity numbers held by exactly one eEkonomi customer (None: several).
        self._by_corporate_id: dict[str, dict | None] = {}

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        return customers_changed_since(self.tenant_id, since)

    def listing(self) -> dict[str, dict]:
        if self._listing is None:
            super().listing()
            for item in self._by_id.values():
                corporate_id = text(item.get("CorporateIdentityNumber"))
                if corporate_id:
                    self._by_corporate_id[corporate_id] = (
                        None if corporate_id in self._by_corporate_id else item
                    )
        return self._listing or {}

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        found = super().find_remote(local, reference)
        corporate_id = local.data.get("organisation_number") or ""
        if found is None and corporate_id:
            # Only an unambiguous corporate id pairs, and only with a customer not paired
            # already (several customers of one company share it).
            item = self._by_corporate_id.get(corporate_id)
            if item is not None and self.context.local_id("customer", item["Id"]) is None:
                found = self.remote_record(item)
        return found

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {name: text(item.get(name)) for name in CUSTOMER_FIELDS}
        return RemoteRecord(id=item["Id"], key=data["CustomerNumber"], name=data["Name"], data=data)

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key:
            return _("Customers are matched by customer number: give the customer a number.")
        if len(local.key) > 16:
            return _("eEkonomi customer numbers have at most 16 characters.")
        if _invoice_address(local.data.get("addresses") or {}) is None:
            return _("eEkonomi needs an invoice address with a postal code and a city.")
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        data = local.data
        addresses = data.get("addresses") or {}
        street, postal_code, city, country = _invoice_address(addresses) or ("", "", "", "")
        delivery = addresses.get(AddressKind.POSTAL) or ("", "", "", "")
        payload: dict[str, Any] = {
            "CustomerNumber": local.key,
            "Name": local.name[:50],
            "IsPrivatePerson": data.get("kind") == CustomerKind.PRIVATE,
            "IsActive": bool(data.get("is_active", True)),
            "CorporateIdentityNumber": (data.get("organisation_number") or "")[:20],
            "VatNumber": (data.get("vat_number") or "")[:20],
            "EmailAddress": data.get("email") or "",
            "Telephone": (data.get("phone") or "")[:50],
            "ContactPersonName": (data.get("contact") or "")[:100],
            "InvoiceAddress1": street[:50],
            "InvoicePostalCode": postal_code[:10],
            "InvoiceCity": city[:50],
            "InvoiceCountryCode": country[:2],
            "DeliveryAddress1": delivery[0][:50],
            "DeliveryPostalCode": delivery[1][:10],
            "DeliveryCity": delivery[2][:50],
            "DeliveryCountryCode": delivery[3][:2],
        }
        if creating:
            payload["TermsOfPaymentId"] = self.context.terms_of_payment_id()
        return payload

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        customers = customers_of(self.tenant_id)
        customer = customers.filter(number=remote.key).first() if remote.key else None
        corporate_id = remote.data.get("CorporateIdentityNumber")
        if customer is None and corporate_id:
            same = list(customers.filter(organisation_number=corporate_id)[:2])
            paired = EntityMap.objects.filter(
                connection_id=self.context.connection.pk,
                entity_type="customer",
                local_id__in=[candidate.pk for candidate in same],
            ).exists()
            customer = same[0] if len(same) == 1 and not paired else None
        return None if customer is None else customer_local(customer)

    def _data(self, remote: RemoteRecord, customer: Customer | None) -> dict[str, Any]:
        """The customer as records.services takes it: eEkonomi's invoice and delivery
        addresses replace the first invoice and postal address (the others stay)."""
        data = remote.data
        addresses = [
            {
                "kind": address.kind,
                "street": address.street,
                "postal_code": address.postal_code,
                "city": address.city,
                "country": address.country,
            }
            for address in (customer.addresses.order_by("pk") if customer else [])
        ]
        country_default = data.get("InvoiceCountryCode") or SELLER_COUNTRY
        for kind, fields in (
            (AddressKind.INVOICE, INVOICE_FIELDS),
            (AddressKind.POSTAL, DELIVERY_FIELDS),
        ):
            street, postal_code, city, country = (data.get(name, "") for name in fields)
            if not (street or postal_code or city):
                continue
            address = {
                "kind": kind,
                "street": street,
                "postal_code": postal_code,
                "city": city,
                "country": country or country_default,
            }
            index = next((i for i, a in enumerate(addresses) if a["kind"] == kind), None)
            if index is None:
                addresses.append(address)
            else:
                addresses[index] = address
        values: dict[str, Any] = {
            "number": remote.key,
            "name": remote.name,
            "kind": CustomerKind.PRIVATE
            if data.get("IsPrivatePerson") == "true"
            else CustomerKind.COMPANY,
            "vat_number": data.get("VatNumber", ""),
            "organisation_number": data.get("CorporateIdentityNumber", ""),
            "email": data.get("EmailAddress", ""),
            "phone": data.get("Telephone", ""),
            "is_active": data.get("IsActive") != "false",
            "addresses": addresses,
        }
        contact = data.get("ContactPersonName", "")
        if contact and not (customer and customer.contacts.exists()):
            first_name, _space, last_name = contact.rpartition(" ")
            values["contacts"] = [{"first_name": first_name, "last_name": last_name}]
        return values

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        customer = saved(
            lambda: customer_create(tenant=self.context.tenant, data=self._data(remote, None))
        )
        return customer_local(customers_of(self.tenant_id).get(pk=customer.pk))

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        customer = Customer.objects.get(tenant_id=self.tenant_id, pk=local_id)
        saved(lambda: customer_update(customer=customer, data=self._data(remote, customer)))
        return customer_local(customers_of(self.tenant_id).get(pk=local_id))


# ---------------------------------------------------------------------------- projects
class ProjectAdapter(_Adapter):
    entity_type = "project"
    path = "projects"
    marker = "Number"
    stamp = "ModifiedUtc"
    directions = TO_REMOTE

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        return projects_changed_since(
            self.tenant_id,
            since,
            data=lambda project: {
                "customer_id": project.customer_id,
                "status": PROJECT_FINISHED
                if project.sales_status == SalesStatus.LOST
                else PROJECT_ONGOING,
                "start": project.created_at.date(),
            },
        )

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {name: text(item.get(name)) for name in ("Number", "Name", "Status", "CustomerId")}
        return RemoteRecord(id=item["Id"], key=data["Number"], name=data["Name"], data=data)

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key or len(local.key) > 9:
            return _("eEkonomi project numbers have 1 to 9 characters.")
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        payload: dict[str, Any] = {
            "Number": local.key,
            "Name": local.name[:200],
            "Status": local.data["status"],
            "CustomerId": self.context.remote_id("customer", local.data["customer_id"]),
        }
        if creating:
            payload["StartDate"] = datetime.datetime.combine(
                local.data["start"], datetime.time(), tzinfo=datetime.UTC
            )
        return payload


# ---------------------------------------------------------------------------- invoices
def vat_code(*, customer: Customer, rate: Decimal, day) -> str:
    """The Swedish VAT code of one row, from the VAT decision for the sale; PermanentError
    when the decision or the rate has no eEkonomi code."""
    addresses = {address.kind: address for address in customer.addresses.all()}
    address = next(
        (
            addresses[kind]
            for kind in (AddressKind.INVOICE, AddressKind.POSTAL, AddressKind.OFFICE)
            if kind in addresses
        ),
        None,
    )
    buyer_country = address.country if address else SELLER_COUNTRY
    try:
        decision = buyer_vat_decision(
            seller_country=SELLER_COUNTRY,
            buyer_country=buyer_country,
            buyer_vat_number=customer.vat_number,
            buyer_is_business=customer.kind == CustomerKind.COMPANY,
            on=day,
        )
    except ValueError as error:
        raise PermanentError(str(error)) from None
    if decision.category == CATEGORY_REVERSE_CHARGE:
        return REVERSE_CHARGE_VAT_CODE
    if decision.category == CATEGORY_OUTSIDE_SCOPE:
        return OUTSIDE_EU_VAT_CODE
    code = DOMESTIC_VAT_CODES.get(Decimal(rate).normalize())
    if code is None:
        raise PermanentError(
            _("VAT %(rate)s %% is not a Swedish rate (25, 12, 6 or 0 %%).") % {"rate": rate}
        )
    return code


class InvoiceAdapter(_Adapter):
    """Invoices in the sending status go to eEkonomi as drafts."""

    entity_type = "invoice"
    path = "customerinvoicedrafts"
    marker = "OurReference"
    stamp = "ModifiedUtc"
    directions = TO_REMOTE

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        return invoices_in_status(self.tenant_id, self.context.connection.send_status_id)

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {
            name: text(item.get(name))
            for name in ("OurReference", "CustomerId", "TotalAmount", "InvoiceNumber")
        }
        return RemoteRecord(
            id=item["Id"],
            key=data["OurReference"],
            name=text(item.get("CustomerName")),
            data=data,
        )

    def _article(self, product_id: int | None) -> str | None:
        connection = self.context.connection
        return self.context.remote_id("product", product_id) or self.context.remote_id(
            "product", connection.default_product_id
        )

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if self.context.remote_id("customer", local.data["customer_id"]) is None:
            return _(
                "The customer %(customer)s is not in eEkonomi yet (it needs a customer number "
                "and an invoice address)."
            ) % {"customer": local.data["customer"]}
        for row in local.data["rows"]:
            if self._article(row["product_id"]) is None:
                return _(
                    "The row “%(row)s” has no product in eEkonomi: eEkonomi invoice rows need "
                    "an article. Give the row a product, or choose a default product in the "
                    "settings."
                ) % {"row": row["description"]}
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        data = local.data
        customer = Customer.objects.prefetch_related("addresses").get(pk=data["customer_id"])
        project = self.context.remote_id("project", data["project_id"])
        rows: list[dict[str, Any]] = []
        reference = data["reference"] or ""
        order_reference_to = self.context.connection.order_reference_to
        if reference and order_reference_to == OrderReferenceTo.NOTE:
            with translation.override(self.context.tenant.language):
                note = _("Order reference: %(reference)s") % {"reference": reference}
            rows.append(
                {
                    "IsTextRow": True,
                    "Text": note[:2000],
                    "ReversedConstructionServicesVatFree": False,
                }
            )
        for row in data["rows"]:
            code = vat_code(customer=customer, rate=row["vat_rate"], day=data["invoice_date"])
            vat_id = self.context.vat_code_id(code)
            if vat_id is None:
                raise PermanentError(_("eEkonomi has no VAT code %(code)s.") % {"code": code})
            eekonomi_row: dict[str, Any] = {
                "IsTextRow": False,
                "ArticleId": self._article(row["product_id"]),
                "Text": (row["description"] or "")[:2000],
                "Quantity": row["quantity"],
                "UnitPrice": row["unit_price"],
                "VatRateId": vat_id,
                "ReversedConstructionServicesVatFree": False,
            }
            if project:
                eekonomi_row["ProjectId"] = project
            cost_centre = self.context.remote_id("cost_centre", row["cost_centre_id"])
            if cost_centre:
                eekonomi_row["CostCenterItemId1"] = cost_centre
            rows.append(eekonomi_row)
        payload: dict[str, Any] = {
            "CustomerId": self.context.remote_id("customer", data["customer_id"]),
            "RotReducedInvoicingType": 0,
            "EuThirdParty": False,
            "InvoiceCurrencyCode": data["currency"],
            "Rows": rows,
        }
        if reference and order_reference_to == OrderReferenceTo.REFERENCE:
            payload["YourReference"] = reference[:100]
        return payload

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        """The draft carrying our reference, or the invoice booked from it."""
        found = self.client.find_by(self.path, "OurReference", reference)
        if found is None:
            found = self.client.find_by("customerinvoices", "OurReference", reference)
            if found is not None and found.get("CreatedFromDraftId"):
                found = {**found, "Id": found["CreatedFromDraftId"]}
        return None if found is None else self.remote_record(found)

    lookup_remote = find_remote

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        return False  # an update replaces the rows: it is sent again

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        payload = self.remote_payload(local, creating=True)
        payload["OurReference"] = reference
        return self.remote_record(self.client.create(self.path, payload))

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        current = self.client.find(self.path, remote_id)
        if current is None:
            raise PermanentError(
                _(
                    "The draft is no longer in eEkonomi (booked or deleted there): the changes "
                    "made in Severa are not sent."
                )
            )
        payload = self.remote_payload(local, creating=False)
        payload["OurReference"] = current.get("OurReference")
        return self.remote_record(self.client.replace(self.path, remote_id, payload))


# ---------------------------------------------------------------------------- project fees
class ProjectFeeAdapter(_Adapter):
    """Rows of booked supplier invoices with a project → project fees, once each."""

    entity_type = "project_fee"
    path = "supplierinvoices"
    stamp = "ModifiedUtc"
    directions = TO_LOCAL

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        return []

    def list_remote(self, changed_since: datetime.datetime | None) -> list[RemoteRecord]:
        since = changed_since or self.context.connection.activated_at
        records = []
        for invoice in self.client.changed(self.path, self.stamp, since):
            if int(invoice.get("Status") or 0) != 1:  # 1: booked (0 draft, 2 deleted)
                continue
            for row in invoice.get("Rows") or []:
                amount = decimal_of(row.get("DebetAmount")) - decimal_of(row.get("CreditAmount"))
                if not row.get("ProjectId") or amount <= 0:
                    continue
                description = (
                    text(row.get("TransactionText"))
                    or text(row.get("AccountName"))
                    or text(invoice.get("SupplierName"))
                )
                records.append(
                    RemoteRecord(
                        id=text(row.get("Id")),
                        key=f"{text(invoice.get('InvoiceNumber'))}/{text(row.get('LineNumber'))}",
                        name=description,
                        data={
                            "project": text(row.get("ProjectId")),
                            "amount": str(amount),
                            "description": description,
                            "date": text(invoice.get("InvoiceDate")),
                            "supplier": text(invoice.get("SupplierName")),
                            "invoice": text(invoice.get("InvoiceNumber")),
                        },
                    )
                )
        return records

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if self.context.local_id("project", remote.data["project"]) is None:
            return _("The project of the row is not one Severa sent to eEkonomi.")
        return None

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        data = remote.data
        default_id = self.context.connection.default_product_id
        product = (
            Product.objects.filter(tenant_id=self.tenant_id, pk=default_id).first()
            if default_id
            else None
        )
        amount = decimal_of(data["amount"]).quantize(Decimal("0.01"))
        return {
            "project": SeveraProject.objects.get(
                tenant_id=self.tenant_id, pk=self.context.local_id("project", data["project"])
            ),
            "product": product,
            "description": " – ".join(
                part for part in (data["supplier"], data["invoice"], data["description"]) if part
            )[:500],
            "date": _day(data["date"]) or clock.today(),
            "quantity": Decimal(1),
            # Without VAT: the sales VAT is added when the fee is invoiced from Severa.
            "unit_cost": amount,
            "unit_price": amount if product is not None else Decimal(0),
            "is_billable": product is not None,
        }

    def _local(self, fee: ProjectFee) -> LocalRecord:
        return LocalRecord(
            id=fee.pk, key=fee.description, name=fee.description, updated_at=fee.updated_at
        )

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        fee = saved(lambda: project_fee_create(tenant=self.context.tenant, data=self._data(remote)))
        return self._local(fee)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        fee = ProjectFee.objects.get(tenant_id=self.tenant_id, pk=local_id)
        fee = saved(lambda: project_fee_update(project_fee=fee, data=self._data(remote)))
        return self._local(fee)


def adapters_for(context: EEkonomiContext) -> list[_Adapter]:
    """In dependency order: cost centres, products and customers before projects and
    invoices; projects before fees."""
    return [
        CostCentreAdapter(context),
        ProductAdapter(context),
        CustomerAdapter(context),
        ProjectAdapter(context),
        InvoiceAdapter(context),
        ProjectFeeAdapter(context),
    ]


# ---------------------------------------------------------------------------- invoice steps
def _label(invoice: CustomerInvoice) -> str:
    return f"{invoice} {invoice.customer.name}"[:300]


def invoices_mark_received(context: EEkonomiContext) -> int:
    """Move the invoices whose draft eEkonomi has (nothing changed since) from the sending
    status to the received status."""
    connection = context.connection
    if connection.send_status_id is None or connection.received_status_id is None:
        return 0
    maps = {
        entity_map.local_id: entity_map
        for entity_map in EntityMap.objects.filter(
            connection_id=connection.pk, entity_type="invoice"
        ).exclude(remote_id=None)
    }
    status_name = invoice_status_name(connection.received_status_id)
    moved = 0
    invoices = (
        CustomerInvoice.objects.filter(
            tenant_id=context.tenant_id, status_id=connection.send_status_id, pk__in=list(maps)
        )
        .select_related("customer")
        .prefetch_related("rows")
    )
    for invoice in invoices:
        entity_map = maps[invoice.pk]
        changed_at = max([invoice.updated_at] + [row.updated_at for row in invoice.rows.all()])
        if entity_map.local_updated_at is None or changed_at > entity_map.local_updated_at:
            continue  # changed after it was sent, and the change failed: it stays
        _invoice_step(
            context,
            invoice,
            entity_map.remote_id or "",
            lambda invoice=invoice: invoice_status_move(invoice, connection.received_status_id),
            _("Sent to eEkonomi as a draft: moved to “%(status)s”.") % {"status": status_name},
        )
        moved += 1
    return moved


def _invoice_step(
    context: EEkonomiContext,
    invoice: CustomerInvoice,
    remote_id: str,
    write: Any,
    reason: str,
    *,
    outcome: str = TransferOutcome.UPDATED,
) -> bool:
    """One change of our invoice from eEkonomi, logged on the invoice; a refusal of the
    records' checks is logged as its failure."""
    try:
        with transaction.atomic():
            if write is not None:
                write()
    except PermanentError as error:
        reason, outcome = str(error), TransferOutcome.FAILED
    context.log(
        "invoice",
        TransferDirection.TO_LOCAL,
        outcome,
        local_id=invoice.pk,
        remote_id=remote_id,
        label=_label(invoice),
        reason=reason,
    )
    return outcome != TransferOutcome.FAILED


def invoices_follow(context: EEkonomiContext) -> None:
    """What happened in eEkonomi to the drafts we sent: booked (number and date written on
    our invoice), deleted without being booked, paid (moved to the paid status), credited
    (reported: it may have been booked again under another number)."""
    connection = context.connection
    client = context.client
    drafts = dict(
        EntityMap.objects.filter(connection_id=connection.pk, entity_type="invoice")
        .exclude(remote_id=None)
        .values_list("local_id", "remote_id")
    )
    states = {
        entity_map.local_id: entity_map
        for entity_map in EntityMap.objects.filter(
            connection_id=connection.pk, entity_type="booked_invoice"
        )
    }
    pending = {local: draft for local, draft in drafts.items() if local not in states}
    following = {local: state for local, state in states.items() if state.remote_hash == BOOKED}
    if not pending and not following:
        return
    since = entity_since(context.run, "booked_invoice") or connection.activated_at
    booked = {
        text(item.get("CreatedFromDraftId")): item
        for item in client.changed("customerinvoices", "ModifiedUtc", since)
    }
    by_id = {item["Id"]: item for item in booked.values()}
    open_drafts = (
        {item["Id"] for item in client.list("customerinvoicedrafts")} if pending else set()
    )
    invoices = {
        invoice.pk: invoice
        for invoice in CustomerInvoice.objects.filter(
            tenant_id=context.tenant_id, pk__in=[*pending, *following]
        ).select_related("customer")
    }
    troubles = 0
    for local_id, draft_id in pending.items():
        invoice = invoices.get(local_id)
        if invoice is None or draft_id in open_drafts:
            continue
        item = booked.get(draft_id) or client.find_by(
            "customerinvoices", "CreatedFromDraftId", draft_id
        )
        if item is None:
            _state(context, local_id, f"gone:{draft_id}", DRAFT_GONE, draft_id)
            _invoice_step(
                context,
                invoice,
                draft_id,
                None,
                _(
                    "The draft was deleted in eEkonomi without being booked: the invoice is "
                    "not sent again and its paid status is not followed. Send it again by "
                    "hand if it should be invoiced."
                ),
                outcome=TransferOutcome.FAILED,
            )
            continue
        number, day = text(item.get("InvoiceNumber")), _day(item.get("InvoiceDate"))
        if _invoice_step(
            context,
            invoice,
            item["Id"],
            lambda invoice=invoice, number=number, day=day: saved(
                lambda: customer_invoice_update(
                    customer_invoice=invoice, data={"number": number, "invoice_date": day}
                )
            ),
            _("Booked in eEkonomi as invoice %(number)s of %(date)s.")
            % {"number": number, "date": day},
        ):
            _state(context, local_id, item["Id"], BOOKED, draft_id)
            following[local_id] = states[local_id] = EntityMap.objects.get(
                connection_id=connection.pk, entity_type="booked_invoice", local_id=local_id
            )
            by_id[item["Id"]] = item
        else:
            troubles += 1
    paid_status = connection.paid_status_id
    for local_id, state in following.items():
        item = by_id.get(state.remote_id or "")
        invoice = invoices.get(local_id)
        if item is None or invoice is None:
            continue
        if item.get("CreditedBy"):
            _state(context, local_id, state.remote_id, CREDITED, state.reference)
            _invoice_step(
                context,
                invoice,
                state.remote_id or "",
                None,
                _(
                    "Invoice %(number)s was credited in eEkonomi (perhaps booked again under "
                    "another number): its paid status is no longer followed."
                )
                % {"number": text(item.get("InvoiceNumber"))},
                outcome=TransferOutcome.FAILED,
            )
            continue
        paid = int(item.get("PaymentStatus", -1)) == PAYMENT_STATUS_PAID or (
            item.get("RemainingAmount") is not None and decimal_of(item["RemainingAmount"]) == 0
        )
        if not paid:
            continue
        _state(context, local_id, state.remote_id, PAID, state.reference)
        if paid_status is None or invoice.status_id == paid_status:
            continue
        if not _invoice_step(
            context,
            invoice,
            state.remote_id or "",
            lambda invoice=invoice: invoice_status_move(invoice, paid_status),
            _("Paid in eEkonomi: moved to “%(status)s”.")
            % {"status": invoice_status_name(paid_status)},
        ):
            troubles += 1
    if troubles == 0:
        entity_synced(context.run, "booked_invoice")


def _state(
    context: EEkonomiContext, local_id: int, remote_id: str | None, state: str, draft_id: str
) -> None:
    now = clock.now()
    EntityMap.objects.update_or_create(
        connection_id=context.connection.pk,
        entity_type="booked_invoice",
        local_id=local_id,
        defaults={
            "tenant_id": context.tenant_id,
            "remote_id": remote_id,
            "reference": draft_id[:100],
            "remote_hash": state,
            "updated_at": now,
        },
        create_defaults={
            "tenant_id": context.tenant_id,
            "remote_id": remote_id,
            "reference": draft_id[:100],
            "remote_hash": state,
            "created_at": now,
            "updated_at": now,
        },
    )


def eekonomi_sync(
    run: SyncRun, client: EAccountingClient, facts: SystemFacts = EACCOUNTING_FACTS
) -> dict[str, int]:
    """One run: every entity type through the engine, then the invoice steps (skipped while
    invoices are blocked). Returns the counts per outcome (also on the run)."""
    context = EEkonomiContext(run, client, facts)
    sync_entities(run, adapters_for(context), facts)
    run.counts = dict(run.counts or {})
    invoices_mark_received(context)
    with entity_guard(run, "invoice", facts, quiet=True) as allowed:
        if allowed:
            try:
                invoices_follow(context)
            except (AuthorizationError, PermissionMissing):
                raise
            except IntegrationError as error:
                context.log(
                    "invoice",
                    TransferDirection.TO_LOCAL,
                    TransferOutcome.FAILED,
                    label=_("Invoices booked in eEkonomi"),
                    reason=str(error),
                )
    SyncRun.objects.filter(pk=run.pk).update(counts=run.counts)
    return dict(run.counts)
