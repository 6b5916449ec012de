"""The Fortnox sync (DESIGN §3.9, the Severa ↔ Fortnox set-up guide): one adapter per
entity type for the generic engine (integrations/engine.py), and the invoice status steps
that follow it.

Rules, per the guide:

- **Units** both ways, matched by code.
- **Products ↔ articles** both ways: the article number is the product code, which must be
  numeric (a product with an empty or non-numeric code is skipped, and so is an article
  with a non-numeric number); matched by number *and* name; a product whose unit Fortnox
  lacks is not sent (a product without a unit is). Updates only from the connection's
  master for products. Prices are not written: Fortnox keeps article prices in price lists.
- **Customers** both ways, matched by customer number; a customer needs a customer
  number, a VAT number and an address, and only Fortnox customers of type COMPANY come to
  Severa. Address kinds map invoice → Address1…, postal → Delivery…, office → Visiting…
  (the first address of a kind wins); Fortnox has one contact per customer
  (``YourReference``, with the customer's e-mail and phone). Updates only from the master.
- **Projects** to Fortnox only; Severa is always master.
- **Customer invoices** go to Fortnox when they reach the connection's sending status
  (``ExternalInvoiceReference1`` carries our reference, so an unclear create is looked up
  before it is tried again), then move to the received status; they move to the paid status
  once Fortnox shows them paid (balance 0, booked, not cancelled). When the tenant chose to
  transfer attachments, each attachment of an invoice Fortnox has is uploaded to the
  Fortnox inbox and attached to the invoice (``/api/fileattachments``), once.
- **Project fees**: supplier-invoice rows booked to a project (in booked supplier invoices
  changed since the activation) come back once each (entity map id: the ``GivenNumber`` and
  a hash of what the row books) as fees
  without VAT; the product is the article of the row if
  Severa has it, else the connection's default product; a fee with a product is billable
  at cost, one without is cost only.

Reads are kept few: existing Fortnox records are looked up in one listing per entity type
and run (a direct GET only after an unclear create), articles are compared from list
items, and a customer paired already is fetched in full only when Fortnox is master for
customers (otherwise its Fortnox changes are not applied anyway).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Max
from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.engine import entity_guard, entity_since, sync_entities
from integrations.errors import (
    AmbiguousWrite,
    IntegrationError,
    PermanentError,
    PermissionMissing,
)
from integrations.facts import SystemFacts
from integrations.fortnox.client import (
    ARTICLES,
    CUSTOMERS,
    PROJECTS,
    UNITS,
    FortnoxClient,
    Resource,
)
from integrations.fortnox.facts import FORTNOX_FACTS
from integrations.local import decimal_of as _decimal
from integrations.local import first_address_by_kind as _first_by_kind
from integrations.local import invoice_local, invoices_in_status
from integrations.local import invoice_status_name as _status_name
from integrations.local import saved as _saved
from integrations.local import text as _text
from integrations.models import (
    Connection,
    EntityMap,
    Master,
    SyncRun,
    Transfer,
    TransferDirection,
    TransferOutcome,
)
from records.models import (
    AddressKind,
    Customer,
    CustomerInvoice,
    CustomerInvoiceAttachment,
    CustomerKind,
    InvoiceStatus,
    Product,
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
from records.services.organisation import unit_create, unit_update
from records.services.products import product_create, product_update
from severa import clock

BOTH = frozenset({TransferDirection.TO_REMOTE, TransferDirection.TO_LOCAL})
TO_REMOTE = frozenset({TransferDirection.TO_REMOTE})
TO_LOCAL = frozenset({TransferDirection.TO_LOCAL})

# Severa address kind → the Fortnox fields of that address (street, zip, city, country).
ADDRESS_FIELDS: dict[str, tuple[str, str, str, str]] = {
    AddressKind.INVOICE: ("Address1", "ZipCode", "City", "CountryCode"),
    AddressKind.POSTAL: (
        "DeliveryAddress1",
        "DeliveryZipCode",
        "DeliveryCity",
        "DeliveryCountryCode",
    ),
    AddressKind.OFFICE: (
        "VisitingAddress",
        "VisitingZipCode",
        "VisitingCity",
        "VisitingCountryCode",
    ),
}
CUSTOMER_FIELDS = (
    "CustomerNumber",
    "Name",
    "Type",
    "VATNumber",
    "OrganisationNumber",
    "Email",
    "Phone1",
    "YourReference",
    "Active",
    *(name for fields in ADDRESS_FIELDS.values() for name in fields),
)
ARTICLE_FIELDS = ("ArticleNumber", "Description", "Unit", "VAT", "SalesPrice")
NUMBER_FIELDS = frozenset({"VAT", "SalesPrice"})
PROJECT_STATUS = {
    SalesStatus.LEAD: "NOTSTARTED",
    SalesStatus.PROPOSAL: "NOTSTARTED",
    SalesStatus.WON: "ONGOING",
    SalesStatus.LOST: "COMPLETED",
}
# What identifies a supplier-invoice row: what it books (Fortnox rows carry no id).
ROW_IDENTITY = (
    "Account",
    "Code",
    "Debit",
    "Credit",
    "Project",
    "CostCenter",
    "ArticleNumber",
    "ItemDescription",
    "Quantity",
    "TransactionInformation",
)
ROW_AMOUNTS = frozenset({"Debit", "Credit", "Quantity"})
# Supplier-invoice row codes that are not costs (the total and the VAT rows).
NOT_COST_ROW_CODES = frozenset({"TOT", "VAT"})


def _number_text(value: Any) -> str:
    """A number as one canonical text, whether Fortnox wrote it as a number or a string."""
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return _text(value)
    return format(number.normalize(), "f")


def _numeric(code: str) -> bool:
    return code.isdigit()


class FortnoxContext:
    """What the adapters of one run share: the run, its connection, the client, and the
    pairings of other entity types (an invoice needs its customer's Fortnox number)."""

    def __init__(self, run: SyncRun, client: FortnoxClient, facts: SystemFacts = FORTNOX_FACTS):
        self.run = run
        self.connection: Connection = run.connection
        self.tenant = run.connection.tenant
        self.tenant_id = run.tenant_id
        self.client = client
        self.facts = facts
        self.created_invoices: list[int] = []

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

    def mapped_remote_ids(self, entity_type: str) -> set[str]:
        return set(
            EntityMap.objects.filter(connection_id=self.connection.pk, entity_type=entity_type)
            .exclude(remote_id=None)
            .values_list("remote_id", flat=True)
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
    """Shared parts: a listing of the Fortnox records read once per run to pair existing
    records, a direct GET by the marker to settle an unclear create, and the payload rules
    of Fortnox (an update clears a field with ``API_BLANK``; a create leaves it out)."""

    entity_type = ""
    directions: frozenset[str] = BOTH
    match_key_only = True
    resource: Resource

    def __init__(self, context: FortnoxContext):
        self.context = context
        self.client = context.client
        self.tenant_id = context.tenant_id
        self._listing: dict[str, dict] | None = None
        # Records read back after an update with unknown outcome, by remote id.
        self._read_back: dict[str, dict] = {}

    # Fortnox records as the engine compares them ----------------------------------------
    def remote_record(self, item: dict) -> RemoteRecord:
        raise NotImplementedError

    def listing(self) -> dict[str, dict]:
        if self._listing is None:
            self._listing = {
                _text(item.get(self.resource.key)): item for item in self.client.list(self.resource)
            }
        return self._listing

    def full(self, item: dict) -> dict:
        """The record the engine compares, from a list item (one GET where list items lack
        fields)."""
        return item

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if not local.key:
            return None
        item = self.listing().get(local.key)
        return None if item is None else self.remote_record(self.full(item))

    def lookup_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        """Ask Fortnox for the record by its number/code (after an unclear create)."""
        if not local.key:
            return None
        found = self.client.find(self.resource, local.key)
        return None if found is None else self.remote_record(found)

    def read_remote(self, remote_id: str) -> RemoteRecord | None:
        found = self.client.find(self.resource, remote_id)
        if found is None:
            return None
        self._read_back[remote_id] = found
        return self.remote_record(found)

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        """Whether the record read back holds every value an update would send (compared
        the Fortnox way: numbers as strings equal numbers, empty equals unset)."""
        record = self._read_back.get(remote.id)
        if record is None:
            return False
        return self.context.facts.payload_matches(
            self.remote_payload(local, creating=False), record
        )

    def _created(self, local: LocalRecord, record: dict) -> RemoteRecord:
        if self._listing is not None:
            self._listing[_text(record.get(self.resource.key))] = record
        return self.remote_record(record)

    def create_payload(self, local: LocalRecord) -> dict:
        """A new record: empty fields are left out."""
        return {
            name: value
            for name, value in self.remote_payload(local, creating=True).items()
            if value not in (None, "")
        }

    def update_payload(self, local: LocalRecord) -> dict:
        """Changes: an empty field is cleared the way Fortnox clears one (``API_BLANK``)."""
        facts = self.context.facts
        return {
            name: facts.clear(value)
            for name, value in self.remote_payload(local, creating=False).items()
        }

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        record = self.client.create(self.resource, self.create_payload(local))
        return self._created(local, record)

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        record = self.client.update(self.resource, remote_id, self.update_payload(local))
        return self.remote_record(record)

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        raise NotImplementedError

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        return None

    def list_remote(self, changed_since: datetime.datetime | None) -> Iterable[RemoteRecord]:
        return [
            self.remote_record(self.full(item))
            for item in self.client.list(self.resource, lastmodified=changed_since)
        ]


# ---------------------------------------------------------------------------- units
class UnitAdapter(_Adapter):
    entity_type = "unit"
    resource = UNITS

    def _local(self, unit: Unit) -> LocalRecord:
        return LocalRecord(
            id=unit.pk,
            key=unit.code,
            name=unit.name,
            updated_at=unit.updated_at,
            data={"code": unit.code, "name": unit.name},
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        units = Unit.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            units = units.filter(updated_at__gt=since)
        return [self._local(unit) for unit in units.order_by("pk")]

    def remote_record(self, item: dict) -> RemoteRecord:
        code = _text(item.get("Code"))
        name = _text(item.get("Description"))
        return RemoteRecord(id=code, key=code, name=name, data={"Code": code, "Description": name})

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        payload = {"Description": local.name[:100] or local.key}
        if creating:
            payload["Code"] = local.key
        return payload

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key or len(local.key) > 20:
            return _("A unit code of 1 to 20 characters is needed in Fortnox.")
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        unit = Unit.objects.filter(tenant_id=self.tenant_id, code=remote.key).first()
        return None if unit is None else self._local(unit)

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        unit = _saved(
            lambda: unit_create(
                tenant=self.context.tenant, data={"code": remote.key, "name": remote.name}
            )
        )
        return self._local(unit)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        unit = Unit.objects.get(tenant_id=self.tenant_id, pk=local_id)
        unit = _saved(lambda: unit_update(unit=unit, data={"name": remote.name}))
        return self._local(unit)


# ---------------------------------------------------------------------------- products
class ProductAdapter(_Adapter):
    entity_type = "product"
    resource = ARTICLES
    match_key_only = False  # the guide: article number = code, and the same name

    def __init__(self, context: FortnoxContext):
        super().__init__(context)
        self._remote_units: set[str] | None = None

    def _local(self, product: Product) -> LocalRecord:
        return LocalRecord(
            id=product.pk,
            key=product.code,
            name=product.name,
            updated_at=product.updated_at,
            data={
                "unit": product.unit.code if product.unit else "",
                "vat_rate": product.vat_rate,
                "price": product.price,
            },
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        products = Product.objects.filter(tenant_id=self.tenant_id).select_related("unit")
        if since is not None:
            products = products.filter(updated_at__gt=since)
        return [self._local(product) for product in products.order_by("pk")]

    def remote_record(self, item: dict) -> RemoteRecord:
        # Numbers come back as strings in list items ("25.00") and as numbers elsewhere.
        data = {
            name: _number_text(item.get(name)) if name in NUMBER_FIELDS else _text(item.get(name))
            for name in ARTICLE_FIELDS
        }
        return RemoteRecord(
            id=data["ArticleNumber"], key=data["ArticleNumber"], name=data["Description"], data=data
        )

    def remote_units(self) -> set[str]:
        if self._remote_units is None:
            try:
                self._remote_units = {_text(unit.get("Code")) for unit in self.client.list(UNITS)}
            except PermissionMissing:
                # Units are blocked (their own entity type says why): products with a unit
                # wait for them.
                self._remote_units = set()
        return self._remote_units

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key or not _numeric(local.key):
            return _(
                "The product code must be a number: Fortnox article numbers are numeric and "
                "not empty."
            )
        unit = local.data.get("unit")
        if unit and unit not in self.remote_units():
            return _("Fortnox has no unit %(unit)s: add it there, then sync again.") % {
                "unit": unit
            }
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not _numeric(remote.key):
            return _("The article number is not numeric: Severa product codes are numbers.")
        unit = remote.data.get("Unit")
        if unit and not Unit.objects.filter(tenant_id=self.tenant_id, code=unit).exists():
            return _("Severa has no unit %(unit)s.") % {"unit": unit}
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        payload: dict[str, Any] = {
            "Description": local.name[:200],
            "Unit": local.data.get("unit") or "",
            "VAT": local.data.get("vat_rate") or Decimal(0),
        }
        if creating:
            payload["ArticleNumber"] = local.key
            payload["Type"] = "SERVICE"
        return payload

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        product = (
            Product.objects.filter(tenant_id=self.tenant_id, code=remote.key)
            .select_related("unit")
            .first()
        )
        return None if product is None else self._local(product)

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        unit_code = remote.data.get("Unit")
        data: dict[str, Any] = {
            "code": remote.key,
            "name": remote.name,
            "unit": Unit.objects.filter(tenant_id=self.tenant_id, code=unit_code).first()
            if unit_code
            else None,
            "vat_rate": _decimal(remote.data.get("VAT")),
        }
        if remote.data.get("SalesPrice"):
            data["price"] = _decimal(remote.data["SalesPrice"])
        return data

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        product = _saved(
            lambda: product_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(product)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        product = Product.objects.get(tenant_id=self.tenant_id, pk=local_id)
        product = _saved(lambda: product_update(product=product, data=self._data(remote)))
        return self._local(product)


# ---------------------------------------------------------------------------- customers
class CustomerAdapter(_Adapter):
    entity_type = "customer"
    resource = CUSTOMERS

    def _local(self, customer: Customer) -> LocalRecord:
        addresses = list(customer.addresses.all())
        contacts = list(customer.contacts.all())
        updated_at = max(
            [customer.updated_at]
            + [address.updated_at for address in addresses]
            + [contact.updated_at for contact in contacts]
        )
        first = _first_by_kind(addresses)
        contact = min(contacts, key=lambda c: c.pk) if contacts else None
        return LocalRecord(
            id=customer.pk,
            key=customer.number,
            name=customer.name,
            updated_at=updated_at,
            data={
                "kind": customer.kind,
                "vat_number": customer.vat_number,
                "organisation_number": customer.organisation_number,
                "email": customer.email or (contact.email if contact else ""),
                "phone": customer.phone or (contact.phone if contact else ""),
                "contact": str(contact) if contact else "",
                "is_active": customer.is_active,
                "addresses": {
                    kind: (address.street, address.postal_code, address.city, address.country)
                    for kind, address in first.items()
                    if kind in ADDRESS_FIELDS
                },
            },
        )

    def _customers(self):
        return Customer.objects.filter(tenant_id=self.tenant_id).prefetch_related(
            "addresses", "contacts"
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        customers = self._customers()
        if since is not None:
            changed = (
                customers.annotate(
                    address_at=Max("addresses__updated_at"), contact_at=Max("contacts__updated_at")
                )
                .values_list("pk", "updated_at", "address_at", "contact_at")
                .order_by()
            )
            ids = [
                pk
                for pk, *moments in changed
                if any(moment is not None and moment > since for moment in moments)
            ]
            customers = customers.filter(pk__in=ids)
        return [self._local(customer) for customer in customers.order_by("pk")]

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {name: _text(item.get(name)) for name in CUSTOMER_FIELDS}
        return RemoteRecord(
            id=data["CustomerNumber"], key=data["CustomerNumber"], name=data["Name"], data=data
        )

    def full(self, item: dict) -> dict:
        return self.client.get(CUSTOMERS, _text(item.get("CustomerNumber")))

    def list_remote(self, changed_since: datetime.datetime | None) -> Iterator[RemoteRecord]:
        # A paired customer's Fortnox changes are only applied when Fortnox is master: only
        # then is its full record read.
        skip_paired = self.context.connection.master_for("customer") == Master.SEVERA
        paired = self.context.mapped_remote_ids("customer") if skip_paired else set()
        for item in self.client.list(CUSTOMERS, lastmodified=changed_since):
            if _text(item.get("CustomerNumber")) in paired:
                continue
            yield self.remote_record(self.full(item))

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key:
            return _("Customers are matched by customer number: give the customer a number.")
        if not local.data.get("vat_number"):
            return _("Fortnox needs a VAT number for the customer.")
        if not local.data.get("addresses"):
            return _("Fortnox needs an invoice, postal or office address for the customer.")
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if remote.data.get("Type") != "COMPANY":
            return _("Only customers of type company come from Fortnox.")
        if not remote.data.get("VATNumber"):
            return _("The customer has no VAT number in Fortnox.")
        if not any(remote.data.get(fields[0]) for fields in ADDRESS_FIELDS.values()):
            return _("The customer has no address in Fortnox.")
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        data = local.data
        payload: dict[str, Any] = {
            "Name": local.name[:1024],
            "Type": "PRIVATE" if data.get("kind") == CustomerKind.PRIVATE else "COMPANY",
            "VATNumber": data.get("vat_number") or "",
            "OrganisationNumber": data.get("organisation_number") or "",
            "Email": data.get("email") or "",
            "Phone1": data.get("phone") or "",
            "YourReference": (data.get("contact") or "")[:50],
            "Active": bool(data.get("is_active", True)),
        }
        addresses = data.get("addresses") or {}
        for kind, fields in ADDRESS_FIELDS.items():
            street, postal_code, city, country = addresses.get(kind, ("", "", "", ""))
            payload.update(
                {
                    fields[0]: street[:128],
                    fields[1]: postal_code[:10],
                    fields[2]: city[:128],
                    fields[3]: country[:2],
                }
            )
        if creating:
            payload["CustomerNumber"] = local.key
        return payload

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        customer = self._customers().filter(number=remote.key).first()
        return None if customer is None else self._local(customer)

    def _data(self, remote: RemoteRecord, customer: Customer | None) -> dict[str, Any]:
        """The customer as records.services takes it: the first address of each kind
        Fortnox holds replaces that of Severa (the others stay), and Fortnox's reference
        names the first contact."""
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
        # An address Fortnox keeps without a country is in the country of the customer's
        # other addresses (the invoice address first); with none, the checks refuse it.
        customer_country = next(
            (data.get(fields[3]) for fields in ADDRESS_FIELDS.values() if data.get(fields[3])),
            "",
        )
        for kind, fields in ADDRESS_FIELDS.items():
            street, postal_code, city, country = (data.get(name, "") for name in fields)
            if not (street or postal_code or city):
                continue
            index = next((i for i, a in enumerate(addresses) if a["kind"] == kind), None)
            address = {
                "kind": kind,
                "street": street,
                "postal_code": postal_code,
                "city": city,
                "country": country
                or (addresses[index]["country"] if index is not None else "")
                or customer_country,
            }
            if index is None:
                addresses.append(address)
            else:
                addresses[index] = address
        values: dict[str, Any] = {
            "number": remote.key,
            "name": remote.name,
            "kind": CustomerKind.COMPANY,
            "vat_number": data.get("VATNumber", ""),
            "organisation_number": data.get("OrganisationNumber", ""),
            "email": data.get("Email", ""),
            "phone": data.get("Phone1", ""),
            "is_active": data.get("Active") != "false",
            "addresses": addresses,
        }
        reference = data.get("YourReference", "")
        if reference:
            contacts = [
                {
                    "first_name": contact.first_name,
                    "last_name": contact.last_name,
                    "email": contact.email,
                    "phone": contact.phone,
                }
                for contact in (customer.contacts.order_by("pk") if customer else [])
            ]
            first_name, _space, last_name = reference.rpartition(" ")
            named = {"first_name": first_name, "last_name": last_name}
            if not contacts:
                contacts = [named]
            elif f"{contacts[0]['first_name']} {contacts[0]['last_name']}".strip() != reference:
                contacts[0] = {**contacts[0], **named}
            values["contacts"] = contacts
        return values

    def _reloaded(self, pk: int) -> LocalRecord:
        return self._local(self._customers().get(pk=pk))

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        customer = _saved(
            lambda: customer_create(tenant=self.context.tenant, data=self._data(remote, None))
        )
        return self._reloaded(customer.pk)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        customer = Customer.objects.get(tenant_id=self.tenant_id, pk=local_id)
        customer = _saved(
            lambda: customer_update(customer=customer, data=self._data(remote, customer))
        )
        return self._reloaded(customer.pk)


# ---------------------------------------------------------------------------- projects
class ProjectAdapter(_Adapter):
    """Severa → Fortnox only; Fortnox descriptions are cut at 50 characters, so projects
    pair by number alone."""

    entity_type = "project"
    resource = PROJECTS
    directions = TO_REMOTE

    def _local(self, project: SeveraProject) -> LocalRecord:
        return LocalRecord(
            id=project.pk,
            key=project.number,
            name=project.name,
            updated_at=project.updated_at,
            data={"status": PROJECT_STATUS.get(project.sales_status, "NOTSTARTED")},
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        projects = SeveraProject.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            projects = projects.filter(updated_at__gt=since)
        return [self._local(project) for project in projects.order_by("pk")]

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {name: _text(item.get(name)) for name in ("ProjectNumber", "Description", "Status")}
        return RemoteRecord(
            id=data["ProjectNumber"], key=data["ProjectNumber"], name=data["Description"], data=data
        )

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key or len(local.key) > 20:
            return _("Fortnox project numbers have 1 to 20 characters.")
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        payload = {"Description": local.name[:50], "Status": local.data["status"]}
        if creating:
            payload["ProjectNumber"] = local.key
        return payload

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:  # pragma: no cover
        return None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:  # pragma: no cover
        raise PermanentError(_("Projects only go from Severa to Fortnox."))

    update_local = create_local  # type: ignore[assignment]


# ---------------------------------------------------------------------------- invoices
class InvoiceAdapter(_Adapter):
    """Invoices in the connection's sending status go to Fortnox (the status steps after
    the sync move them on)."""

    entity_type = "invoice"
    directions = TO_REMOTE

    def _local(self, invoice: CustomerInvoice) -> LocalRecord:
        return invoice_local(invoice)

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        # Every invoice waiting in the sending status, whenever it got there: they leave it
        # once the system has them, and one skipped earlier is tried again.
        return invoices_in_status(self.tenant_id, self.context.connection.send_status_id)

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {
            name: _text(item.get(name))
            for name in ("DocumentNumber", "CustomerNumber", "ExternalInvoiceReference1", "Total")
        }
        return RemoteRecord(
            id=data["DocumentNumber"],
            key=data["DocumentNumber"],
            name=_text(item.get("CustomerName")),
            data=data,
        )

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if self.context.remote_id("customer", local.data["customer_id"]) is None:
            return _(
                "The customer %(customer)s is not in Fortnox yet (it needs a customer number, "
                "a VAT number and an address)."
            ) % {"customer": local.data["customer"]}
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        data = local.data
        rows = []
        for row in data["rows"]:
            fortnox_row: dict[str, Any] = {
                "Description": (row["description"] or "")[:255],
                "DeliveredQuantity": row["quantity"],
                "Price": row["unit_price"],
                "VAT": row["vat_rate"],
            }
            article = self.context.remote_id("product", row["product_id"])
            if article:
                fortnox_row["ArticleNumber"] = article
            rows.append(fortnox_row)
        payload: dict[str, Any] = {
            "CustomerNumber": self.context.remote_id("customer", data["customer_id"]),
            "InvoiceDate": data["invoice_date"],
            "Currency": data["currency"],
            "YourReference": (data["reference"] or "")[:50],
            "Remarks": (data["notes"] or "")[:1024],
            "InvoiceRows": rows,
        }
        if data["due_date"]:
            payload["DueDate"] = data["due_date"]
        project = self.context.remote_id("project", data["project_id"])
        if project:
            payload["Project"] = project
        return payload

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        found = self.client.find_invoices_by_reference(reference)
        return self.remote_record(found[0]) if found else None

    # Always a search of Fortnox by ExternalInvoiceReference1.
    lookup_remote = find_remote

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        # An invoice update replaces its rows; update_remote reads the invoice first anyway.
        return False

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        payload = self.create_payload(local)
        payload["ExternalInvoiceReference1"] = reference
        record = self.client.create_invoice(payload)
        self.context.created_invoices.append(local.id)
        return self.remote_record(record)

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        current = self.client.get_invoice(remote_id)
        if current.get("Booked") or current.get("Cancelled"):
            raise PermanentError(
                _(
                    "Invoice %(number)s is booked or cancelled in Fortnox: the changes made "
                    "in Severa are not sent."
                )
                % {"number": remote_id}
            )
        return self.remote_record(self.client.update_invoice(remote_id, self.update_payload(local)))

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:  # pragma: no cover
        return None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:  # pragma: no cover
        raise PermanentError(_("Invoices only go from Severa to Fortnox."))

    update_local = create_local  # type: ignore[assignment]


# ---------------------------------------------------------------------------- project fees
class ProjectFeeAdapter(_Adapter):
    """Supplier-invoice rows booked to a project → project fees, once each."""

    entity_type = "project_fee"
    directions = TO_LOCAL

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        return []

    def _local(self, fee: ProjectFee) -> LocalRecord:
        return LocalRecord(
            id=fee.pk,
            key=fee.description,
            name=fee.description,
            updated_at=fee.updated_at,
        )

    def list_remote(self, changed_since: datetime.datetime | None) -> Iterator[RemoteRecord]:
        # The first run reads the supplier invoices booked since the activation, not the
        # company's whole history (each one is a GET of its rows). Only booked ones: an
        # unbooked supplier invoice may still change.
        since = changed_since or self.context.connection.activated_at
        for item in self.client.list_supplier_invoices(lastmodified=since):
            if item.get("Cancelled") or not item.get("Booked"):
                continue
            invoice = self.client.get_supplier_invoice(_text(item.get("GivenNumber")))
            if not invoice.get("Booked"):
                continue
            yield from self.fee_rows(invoice)

    def fee_rows(self, invoice: dict) -> Iterator[RemoteRecord]:
        """The cost rows of a booked supplier invoice, each identified by the invoice's
        number and what the row books (account, project, amounts, article, text): inserting
        or removing another row does not make an imported row look new."""
        given = _text(invoice.get("GivenNumber"))
        seen: Counter[str] = Counter()
        for index, row in enumerate(invoice.get("SupplierInvoiceRows") or [], start=1):
            project = _text(row.get("Project"))
            amount = _decimal(row.get("Debit")) - _decimal(row.get("Credit"))
            if not project or _text(row.get("Code")) in NOT_COST_ROW_CODES or amount <= 0:
                continue
            description = (
                _text(row.get("ItemDescription"))
                or _text(row.get("AccountDescription"))
                or _text(invoice.get("SupplierName"))
            )
            content = hashlib.sha256(
                json.dumps(
                    [
                        _text(row.get(name))
                        if name not in ROW_AMOUNTS
                        else _number_text(row.get(name))
                        for name in ROW_IDENTITY
                    ]
                ).encode()
            ).hexdigest()[:20]
            seen[content] += 1  # identical rows on one invoice are told apart by their order
            record = RemoteRecord(
                id=f"{given}-{content}-{seen[content]}",
                key=f"{given}/{index}",
                name=description,
                data={
                    "project": project,
                    "article": _text(row.get("ArticleNumber")),
                    "description": description,
                    "amount": str(amount),
                    "quantity": _text(row.get("Quantity")),
                    "date": _text(invoice.get("InvoiceDate")),
                    "supplier": _text(invoice.get("SupplierName")),
                    "invoice": _text(invoice.get("InvoiceNumber")),
                },
            )
            self._rekey_legacy(record, f"{given}-{index}")
            yield record

    def _rekey_legacy(self, record: RemoteRecord, legacy_id: str) -> None:
        """Rows imported while rows were keyed by position keep their fee: the pairing is
        moved to the row's new identity when it holds exactly the same content."""
        EntityMap.objects.filter(
            connection_id=self.context.connection.pk,
            entity_type=self.entity_type,
            remote_id=legacy_id,
            remote_hash=RemoteRecord(id=legacy_id, key="", name="", data=record.data).fingerprint,
        ).update(remote_id=record.id)

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not SeveraProject.objects.filter(
            tenant_id=self.tenant_id, number=remote.data["project"]
        ).exists():
            return _("Severa has no project %(number)s.") % {"number": remote.data["project"]}
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        return None  # only the entity map pairs fees: each row comes once

    def _product(self, article: str) -> Product | None:
        if article:
            product = Product.objects.filter(tenant_id=self.tenant_id, code=article).first()
            if product is not None:
                return product
        default_id = self.context.connection.default_product_id
        if default_id is None:
            return None
        return Product.objects.filter(tenant_id=self.tenant_id, pk=default_id).first()

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        data = remote.data
        quantity = _decimal(data["quantity"]) or Decimal(1)
        amount = _decimal(data["amount"])
        product = self._product(data["article"])
        # Without VAT: the sales VAT is added when the fee is invoiced from Severa.
        unit_cost = (amount / quantity).quantize(Decimal("0.01"))
        # A fee can be invoiced only with a product code; without one it is cost only.
        is_billable = product is not None
        return {
            "project": SeveraProject.objects.get(tenant_id=self.tenant_id, number=data["project"]),
            "product": product,
            "description": " – ".join(
                part for part in (data["supplier"], data["invoice"], data["description"]) if part
            )[:500],
            "date": datetime.date.fromisoformat(data["date"]) if data["date"] else clock.today(),
            "quantity": quantity,
            "unit_cost": unit_cost,
            "unit_price": unit_cost if is_billable else Decimal(0),
            "is_billable": is_billable,
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        fee = _saved(
            lambda: project_fee_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(fee)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        fee = ProjectFee.objects.get(tenant_id=self.tenant_id, pk=local_id)
        fee = _saved(lambda: project_fee_update(project_fee=fee, data=self._data(remote)))
        return self._local(fee)

    def remote_record(self, item: dict) -> RemoteRecord:  # pragma: no cover
        raise NotImplementedError

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:  # pragma: no cover
        raise PermanentError(_("Project fees only come from Fortnox."))

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:  # pragma: no cover
        raise PermanentError(_("Project fees only come from Fortnox."))


# ---------------------------------------------------------------------------- the run
def adapters_for(context: FortnoxContext) -> list[_Adapter]:
    """In dependency order: units before products, customers and products before invoices,
    projects before invoices and fees."""
    return [
        UnitAdapter(context),
        ProductAdapter(context),
        CustomerAdapter(context),
        ProjectAdapter(context),
        InvoiceAdapter(context),
        ProjectFeeAdapter(context),
    ]


def _status_move(
    context: FortnoxContext, invoice: CustomerInvoice, status_id: int, remote_id: str | None
) -> bool:
    """Move `invoice` to the status through records.services; a refusal is logged as the
    invoice's failure (False)."""
    status = InvoiceStatus.objects.filter(tenant_id=context.tenant_id, pk=status_id).first()
    try:
        _saved(lambda: customer_invoice_update(customer_invoice=invoice, data={"status": status}))
    except PermanentError as error:
        context.log(
            "invoice",
            TransferDirection.TO_LOCAL,
            TransferOutcome.FAILED,
            local_id=invoice.pk,
            remote_id=remote_id or "",
            label=f"{invoice} {invoice.customer.name}"[:300],
            reason=str(error),
        )
        return False
    return True


def invoices_mark_received(context: FortnoxContext) -> int:
    """Move the invoices Fortnox has (paired, nothing changed since) from the sending
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
    moved = 0
    status_name = _status_name(connection.received_status_id)
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
        if not _status_move(context, invoice, connection.received_status_id, entity_map.remote_id):
            continue
        moved += 1
        context.log(
            "invoice",
            TransferDirection.TO_LOCAL,
            TransferOutcome.UPDATED,
            local_id=invoice.pk,
            remote_id=entity_map.remote_id or "",
            label=f"{invoice} {invoice.customer.name}"[:300],
            reason=_("Received by Fortnox as invoice %(number)s: moved to “%(status)s”.")
            % {"number": entity_map.remote_id, "status": status_name},
        )
    return moved


def invoices_mark_paid(context: FortnoxContext) -> int:
    """Move the invoices Fortnox shows paid (balance 0, booked, not cancelled) to the paid
    status, when the connection has one."""
    connection = context.connection
    if connection.paid_status_id is None:
        return 0
    since = entity_since(context.run, "invoice")
    paid_numbers = {
        _text(item.get("DocumentNumber"))
        for item in context.client.list_invoices(filter="fullypaid", lastmodified=since)
        if _decimal(item.get("Balance")) == 0 and item.get("Booked") and not item.get("Cancelled")
    }
    if not paid_numbers:
        return 0
    maps = dict(
        EntityMap.objects.filter(
            connection_id=connection.pk, entity_type="invoice", remote_id__in=paid_numbers
        ).values_list("local_id", "remote_id")
    )
    status_name = _status_name(connection.paid_status_id)
    moved = 0
    invoices = CustomerInvoice.objects.filter(tenant_id=context.tenant_id, pk__in=list(maps))
    for invoice in invoices.exclude(status_id=connection.paid_status_id).select_related("customer"):
        if not _status_move(context, invoice, connection.paid_status_id, maps[invoice.pk]):
            continue
        moved += 1
        context.log(
            "invoice",
            TransferDirection.TO_LOCAL,
            TransferOutcome.UPDATED,
            local_id=invoice.pk,
            remote_id=maps[invoice.pk],
            label=f"{invoice} {invoice.customer.name}"[:300],
            reason=_("Paid in Fortnox: moved to “%(status)s”.") % {"status": status_name},
        )
    return moved


def invoice_attachments_send(context: FortnoxContext) -> int:
    """When the tenant chose to transfer attachments: every attachment of an invoice
    Fortnox has is uploaded to the Fortnox inbox and attached to the invoice (included when
    Fortnox sends it), once each. Returns how many were attached in this run."""
    connection = context.connection
    if not connection.transfer_attachments:
        return 0
    invoice_numbers = dict(
        EntityMap.objects.filter(connection_id=connection.pk, entity_type="invoice")
        .exclude(remote_id=None)
        .values_list("local_id", "remote_id")
    )
    if not invoice_numbers:
        return 0
    attached = EntityMap.objects.filter(
        connection_id=connection.pk, entity_type="invoice_attachment"
    ).exclude(remote_id=None)
    attachments = (
        CustomerInvoiceAttachment.objects.filter(
            tenant_id=context.tenant_id, invoice_id__in=list(invoice_numbers)
        )
        .exclude(pk__in=attached.values("local_id"))
        .select_related("invoice")
        .order_by("pk")
    )
    sent = 0
    for attachment in attachments:
        label = f"{attachment.invoice} {attachment.file_name}"[:300]
        try:
            sent += _attachment_send(context, attachment, invoice_numbers[attachment.invoice_id])
        except PermissionMissing:
            raise
        except IntegrationError as error:
            context.log(
                "invoice_attachment",
                TransferDirection.TO_REMOTE,
                TransferOutcome.FAILED,
                local_id=attachment.pk,
                label=label,
                reason=str(error),
            )
    return sent


def _attachment_send(
    context: FortnoxContext, attachment: CustomerInvoiceAttachment, document_number: str
) -> int:
    """Upload (once: the file id is kept as the pairing's reference) and attach (once: an
    attach whose answer was lost is looked for among the invoice's attachments first)."""
    client = context.client
    now = clock.now()
    entity_map, _created = EntityMap.objects.get_or_create(
        connection_id=context.connection.pk,
        entity_type="invoice_attachment",
        local_id=attachment.pk,
        defaults={
            "tenant_id": context.tenant_id,
            "reference": "",
            "created_at": now,
            "updated_at": now,
        },
    )
    label = f"{attachment.invoice} {attachment.file_name}"[:300]
    if not entity_map.reference:
        uploaded = client.inbox_upload(
            attachment.file_name,
            bytes(attachment.content),
            attachment.content_type or "application/octet-stream",
        )
        entity_map.reference = f"file:{uploaded.get('ArchiveFileId') or uploaded['Id']}"
        entity_map.updated_at = clock.now()
        entity_map.save(update_fields=["reference", "updated_at"])
    file_id = entity_map.reference.removeprefix("file:")
    found = None
    if entity_map.update_unverified:
        found = next(
            (
                existing
                for existing in client.attachments_of(document_number)
                if existing.get("fileId") == file_id
            ),
            None,
        )
    if found is None:
        try:
            found = client.attachment_connect(entity_id=document_number, file_id=file_id)
        except AmbiguousWrite:
            entity_map.update_unverified = True
            entity_map.save(update_fields=["update_unverified"])
            context.log(
                "invoice_attachment",
                TransferDirection.TO_REMOTE,
                TransferOutcome.UNVERIFIED,
                local_id=attachment.pk,
                label=label,
                reason=_(
                    "The attachment was sent but Fortnox did not answer: the invoice's "
                    "attachments are read before it is attached again."
                ),
            )
            return 0
    entity_map.remote_id = str(found.get("id"))
    entity_map.update_unverified = False
    entity_map.updated_at = clock.now()
    entity_map.save(update_fields=["remote_id", "update_unverified", "updated_at"])
    context.log(
        "invoice_attachment",
        TransferDirection.TO_REMOTE,
        TransferOutcome.CREATED,
        local_id=attachment.pk,
        remote_id=entity_map.remote_id,
        label=label,
        reason=_("Uploaded to the Fortnox inbox and attached to invoice %(number)s.")
        % {"number": document_number},
    )
    return 1


def fortnox_sync(
    run: SyncRun, client: FortnoxClient, facts: SystemFacts = FORTNOX_FACTS
) -> dict[str, int]:
    """One run of a Fortnox connection: every entity type through the engine, then the
    invoice status steps (each skipped while its entity type is blocked). Returns the
    counts per outcome (also on the run)."""
    context = FortnoxContext(run, client, facts)
    sync_entities(run, adapters_for(context), facts)
    run.counts = dict(run.counts or {})
    with entity_guard(run, "invoice_attachment", facts) as allowed:
        if allowed:
            invoice_attachments_send(context)
    invoices_mark_received(context)
    with entity_guard(run, "invoice", facts, quiet=True) as allowed:
        if allowed:
            invoices_mark_paid(context)
    SyncRun.objects.filter(pk=run.pk).update(counts=run.counts)
    return dict(run.counts)
