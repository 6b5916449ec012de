"""The Visma.net ERP sync: one adapter per entity type for the engine
(integrations/engine.py), then the invoice status steps.

- **Customers** both ways, paired by customer number, then by corporate id (organisation
  number). Office (else postal) address ↔ ``mainAddress``, invoice address ↔
  ``invoiceAddress``, the first contact ↔ ``mainContact``. Updates only from the master.
- **Products ↔ inventory items** both ways by item number (= product code, digits):
  description, the unit (base, sales and purchase unit), default price and VAT code.
- **Projects** to Visma.net only: ``projectID`` = number, description, customer, status.
- **Customer invoices** in the sending status go to Visma.net with their lines (item,
  quantity, price, Norwegian VAT code, subaccount segments from the row's department and
  cost centre, integrations/vismanet/segments.py); ``externalReference`` carries our
  reference, so an unclear create is looked up before it is tried again. They then move to
  the received status, and to the paid status once Visma.net shows them ``Closed`` with
  balance 0.
- **Project fees**: each line of a released supplier invoice booked to a project comes back
  once (keyed by the document and line number) as a fee without VAT, with the line's item
  if Severa has it, else the connection's default product.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Max
from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.engine import entity_guard, entity_since, sync_entities
from integrations.errors import PermanentError
from integrations.facts import BOTH, TO_LOCAL, TO_REMOTE, SystemFacts
from integrations.local import invoice_local, invoices_in_status
from integrations.local import saved as record_saved
from integrations.models import (
    Connection,
    EntityMap,
    Master,
    SyncRun,
    Transfer,
    TransferDirection,
    TransferOutcome,
)
from integrations.vismanet.client import VismaNetClient
from integrations.vismanet.facts import VISMANET_FACTS
from integrations.vismanet.segments import (
    Segment,
    dimension_segments,
    row_subaccount,
    segment_settings,
)
from records.models import (
    AddressKind,
    BusinessUnit,
    CostCentre,
    Customer,
    CustomerInvoice,
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
from records.services.products import product_create, product_update
from severa import clock

# Norwegian VAT codes of Visma.net ERP (SAF-T standard codes) by the rate of a sale.
VAT_CODES = {Decimal(25): "3", Decimal(15): "31", Decimal(12): "33", Decimal(0): "5"}
VAT_RATES = {
    "3": Decimal(25),
    "31": Decimal(15),
    "33": Decimal(12),
    "5": Decimal(0),
    "6": Decimal(0),
}
PROJECT_STATUS = {
    SalesStatus.LEAD: "Planned",
    SalesStatus.PROPOSAL: "Planned",
    SalesStatus.WON: "Active",
    SalesStatus.LOST: "Cancelled",
}
# Released supplier invoices (open or paid): their lines no longer change.
RELEASED = frozenset({"Open", "Closed"})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value).strip()


def _decimal(value: Any) -> Decimal:
    return Decimal(0) if value in (None, "") else Decimal(str(value))


def vat_code(rate: Decimal) -> str | None:
    return VAT_CODES.get(Decimal(rate).normalize() if rate else Decimal(0))


class VismaNetContext:
    """What the adapters of one run share: the run, its connection, the client, the
    pairings of other entity types, and the SUBACCOUNT segments (read once)."""

    def __init__(self, run: SyncRun, client: VismaNetClient, facts: SystemFacts = VISMANET_FACTS):
        self.run = run
        self.connection: Connection = run.connection
        self.tenant = run.connection.tenant
        self.tenant_id = run.tenant_id
        self.client = client
        self.facts = facts
        self._segments: dict[int, Segment] | None = None

    def segments(self) -> dict[int, Segment]:
        if self._segments is None:
            settings = segment_settings(self.connection)
            picked = (
                settings.department_segment is not None or settings.cost_centre_segment is not None
            )
            self._segments = (
                dimension_segments(self.client.subaccount_dimension()) if picked else {}
            )
        return self._segments

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
    """Shared parts: one listing of the Visma.net records per run to pair existing ones, a
    direct GET by the key to settle an unclear create or read back an unclear update."""

    entity_type = ""
    directions: frozenset[str] = BOTH
    match_key_only = True
    path = ""
    key_field = ""

    def __init__(self, context: VismaNetContext):
        self.context = context
        self.client = context.client
        self.tenant_id = context.tenant_id
        self._listing: dict[str, dict] | None = None
        self._read_back: dict[str, dict] = {}

    def remote_record(self, item: dict) -> RemoteRecord:
        raise NotImplementedError

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        raise NotImplementedError

    def listing(self) -> dict[str, dict]:
        if self._listing is None:
            self._listing = {
                _text(item.get(self.key_field)): item for item in self.client.list(self.path)
            }
        return self._listing

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if not local.key:
            return None
        item = self.listing().get(local.key)
        return None if item is None else self.remote_record(item)

    def lookup_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if not local.key:
            return None
        found = self.client.find(self.path, local.key)
        return None if found is None else self.remote_record(found)

    def read_remote(self, remote_id: str) -> RemoteRecord | None:
        found = self.client.find(self.path, remote_id)
        if found is None:
            return None
        self._read_back[remote_id] = found
        return self.remote_record(found)

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        expected = self.remote_record(
            {**self._read_back.get(remote.id, {}), **self.comparable(local)}
        )
        return remote.id in self._read_back and expected.data == remote.data

    def comparable(self, local: LocalRecord) -> dict:
        """The local record's values as a read record holds them (for read-backs)."""
        return {}

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        record = self.client.create(self.path, self.remote_payload(local, creating=True))
        if self._listing is not None:
            self._listing[_text(record.get(self.key_field))] = record
        return self.remote_record(record)

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        current = self._read_back.get(remote_id) or {}
        record = self.client.update(
            self.path,
            remote_id,
            self.remote_payload(local, creating=False),
            etag=_text(current.get("timeStamp")),
        )
        return self.remote_record(record)

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        return None

    def list_remote(self, changed_since: datetime.datetime | None) -> Iterable[RemoteRecord]:
        # A paired record's Visma.net changes apply only when Visma.net is master.
        skip_paired = self.context.connection.master_for(self.entity_type) == Master.SEVERA
        paired = self.context.mapped_remote_ids(self.entity_type) if skip_paired else set()
        for item in self.client.list(self.path, changed_since=changed_since):
            if _text(item.get(self.key_field)) not in paired:
                yield self.remote_record(item)


# ---------------------------------------------------------------------------- customers
ADDRESS_LINES = ("addressLine1", "postalCode", "city", "countryId")


def _address_of(read: dict | None) -> tuple[str, str, str, str]:
    read = read or {}
    return (
        _text(read.get("addressLine1")),
        _text(read.get("postalCode")),
        _text(read.get("city")),
        _text((read.get("country") or {}).get("id")),
    )


class CustomerAdapter(_Adapter):
    entity_type = "customer"
    path = "customer"
    key_field = "number"

    def _customers(self):
        return Customer.objects.filter(tenant_id=self.tenant_id).prefetch_related(
            "addresses", "contacts"
        )

    def _local(self, customer: Customer) -> LocalRecord:
        addresses = sorted(customer.addresses.all(), key=lambda address: address.pk)
        contacts = sorted(customer.contacts.all(), key=lambda contact: contact.pk)
        first: dict[str, Any] = {}
        for address in addresses:
            first.setdefault(address.kind, address)
        main = (
            first.get(AddressKind.OFFICE)
            or first.get(AddressKind.POSTAL)
            or first.get(AddressKind.INVOICE)
        )
        invoice = first.get(AddressKind.INVOICE)
        contact = contacts[0] if contacts else None

        def lines(address: Any) -> tuple[str, str, str, str] | None:
            if address is None:
                return None
            return (address.street, address.postal_code, address.city, address.country)

        return LocalRecord(
            id=customer.pk,
            key=customer.number,
            name=customer.name,
            updated_at=max(
                [customer.updated_at]
                + [address.updated_at for address in addresses]
                + [contact.updated_at for contact in contacts]
            ),
            data={
                "vat_number": customer.vat_number,
                "organisation_number": customer.organisation_number,
                "is_active": customer.is_active,
                "main": lines(main),
                "invoice": lines(invoice),
                "contact": str(contact) if contact else "",
                "email": customer.email or (contact.email if contact else ""),
                "phone": customer.phone or (contact.phone if contact else ""),
            },
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
            customers = customers.filter(
                pk__in=[
                    pk
                    for pk, *moments in changed
                    if any(moment is not None and moment > since for moment in moments)
                ]
            )
        return [self._local(customer) for customer in customers.order_by("pk")]

    def remote_record(self, item: dict) -> RemoteRecord:
        contact = item.get("mainContact") or {}
        data = {
            "number": _text(item.get("number")),
            "name": _text(item.get("name")),
            "status": _text(item.get("status")),
            "corporateId": _text(item.get("corporateId")),
            "vatRegistrationId": _text(item.get("vatRegistrationId")),
            "mainAddress": list(_address_of(item.get("mainAddress"))),
            "invoiceAddress": list(_address_of(item.get("invoiceAddress"))),
            "contact": _text(contact.get("name")),
            "email": _text(contact.get("email")),
            "phone": _text(contact.get("phone1")),
        }
        return RemoteRecord(id=data["number"], key=data["number"], name=data["name"], data=data)

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        found = super().find_remote(local, reference)
        corporate_id = local.data.get("organisation_number")
        if found is not None or not corporate_id:
            return found
        # Then by corporate id, when it names one customer on each side.
        same = [
            item
            for item in self.listing().values()
            if _text(item.get("corporateId")) == corporate_id
        ]
        shared = self._customers().filter(organisation_number=corporate_id).count()
        return self.remote_record(same[0]) if len(same) == 1 and shared == 1 else None

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key:
            return _("Customers are matched by customer number: give the customer a number.")
        if len(local.key) > 10:
            return _("Visma.net ERP customer numbers have at most 10 characters.")
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not remote.data["mainAddress"][0] and not remote.data["invoiceAddress"][0]:
            return _("The customer has no address in Visma.net ERP.")
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        data = local.data

        def address(lines: Any) -> dict | None:
            if not lines:
                return None
            street, postal_code, city, country = lines
            return {
                "addressLine1": street[:50],
                "postalCode": postal_code[:20],
                "city": city[:50],
                "countryId": country[:2],
            }

        payload: dict[str, Any] = {
            "name": local.name[:255],
            "status": "Active" if data.get("is_active", True) else "Inactive",
            "corporateId": data.get("organisation_number") or "",
            "vatRegistrationId": data.get("vat_number") or "",
            "mainContact": {
                "name": (data.get("contact") or local.name)[:255],
                "email": data.get("email") or "",
                "phone1": data.get("phone") or "",
            },
        }
        for name, lines in (
            ("mainAddress", data.get("main")),
            ("invoiceAddress", data.get("invoice")),
        ):
            if lines:
                payload[name] = address(lines)
        if creating:
            payload["number"] = local.key
            payload["overrideNumberSeries"] = True
        return payload

    def comparable(self, local: LocalRecord) -> dict:
        payload = self.remote_payload(local, creating=False)

        def read_address(values: dict | None) -> dict | None:
            if not values:
                return None
            return {**values, "country": {"id": values["countryId"]}}

        return {
            "name": payload["name"],
            "status": payload["status"],
            "corporateId": payload["corporateId"],
            "vatRegistrationId": payload["vatRegistrationId"],
            "mainAddress": read_address(payload.get("mainAddress")),
            "invoiceAddress": read_address(payload.get("invoiceAddress")),
            "mainContact": payload["mainContact"],
        }

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        customer = self._customers().filter(number=remote.key).first()
        corporate_id = remote.data["corporateId"]
        if customer is None and corporate_id:
            # Then by corporate id, when it names one customer on each side.
            same = list(self._customers().filter(organisation_number=corporate_id)[:2])
            others = sum(
                1
                for item in self.listing().values()
                if _text(item.get("corporateId")) == corporate_id
            )
            customer = same[0] if len(same) == 1 and others <= 1 else None
        return None if customer is None else self._local(customer)

    def _data(self, remote: RemoteRecord, customer: Customer | None) -> dict[str, Any]:
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
        fallback_country = data["invoiceAddress"][3] or data["mainAddress"][3]
        for kind, lines in (
            (AddressKind.OFFICE, data["mainAddress"]),
            (AddressKind.INVOICE, data["invoiceAddress"]),
        ):
            street, postal_code, city, country = lines
            if not (street or postal_code or city):
                continue
            address = {
                "kind": kind,
                "street": street,
                "postal_code": postal_code,
                "city": city,
                "country": country or fallback_country,
            }
            index = next((i for i, old in enumerate(addresses) if old["kind"] == kind), None)
            if index is None:
                addresses.append(address)
            else:
                addresses[index] = address
        values: dict[str, Any] = {
            "number": remote.key,
            "name": remote.name,
            "kind": CustomerKind.COMPANY,
            "vat_number": data["vatRegistrationId"],
            "organisation_number": data["corporateId"],
            "email": data["email"],
            "phone": data["phone"],
            "is_active": data["status"] != "Inactive",
            "addresses": addresses,
        }
        if data["contact"] and data["contact"] != remote.name:
            contacts = [
                {
                    "first_name": contact.first_name,
                    "last_name": contact.last_name,
                    "email": contact.email,
                    "phone": contact.phone,
                }
                for contact in (customer.contacts.order_by("pk") if customer else [])
            ]
            first_name, _space, last_name = data["contact"].rpartition(" ")
            named = {"first_name": first_name, "last_name": last_name}
            if not contacts:
                contacts = [named]
            elif (
                f"{contacts[0]['first_name']} {contacts[0]['last_name']}".strip() != data["contact"]
            ):
                contacts[0] = {**contacts[0], **named}
            values["contacts"] = contacts
        return values

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        customer = record_saved(
            lambda: customer_create(tenant=self.context.tenant, data=self._data(remote, None))
        )
        return self._local(self._customers().get(pk=customer.pk))

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        customer = Customer.objects.get(tenant_id=self.tenant_id, pk=local_id)
        record_saved(lambda: customer_update(customer=customer, data=self._data(remote, customer)))
        return self._local(self._customers().get(pk=local_id))


# ---------------------------------------------------------------------------- items
class ProductAdapter(_Adapter):
    entity_type = "product"
    path = "inventory"
    key_field = "inventoryNumber"

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
                "is_active": product.is_active,
            },
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        products = Product.objects.filter(tenant_id=self.tenant_id).select_related("unit")
        if since is not None:
            products = products.filter(updated_at__gt=since)
        return [self._local(product) for product in products.order_by("pk")]

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {
            "inventoryNumber": _text(item.get("inventoryNumber")),
            "description": _text(item.get("description")),
            "status": _text(item.get("status")),
            "baseUnit": _text(item.get("baseUnit")),
            "salesUnit": _text(item.get("salesUnit")),
            "defaultPrice": _text(item.get("defaultPrice")),
            "vatCode": _text((item.get("vatCode") or {}).get("id")),
        }
        return RemoteRecord(
            id=data["inventoryNumber"],
            key=data["inventoryNumber"],
            name=data["description"],
            data=data,
        )

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key:
            return _("The product needs a code: it is the item number in Visma.net ERP.")
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not remote.key.isdigit():
            return _("The item number is not numeric: Severa product codes are numbers.")
        unit = remote.data["salesUnit"] or remote.data["baseUnit"]
        if unit and not Unit.objects.filter(tenant_id=self.tenant_id, code=unit).exists():
            return _("Severa has no unit %(unit)s.") % {"unit": unit}
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        unit = local.data.get("unit") or ""
        payload: dict[str, Any] = {
            "description": local.name[:255],
            "status": "Active" if local.data.get("is_active", True) else "Inactive",
            "defaultPrice": local.data.get("price") or Decimal(0),
        }
        # A rate without a Norwegian VAT code leaves the item's VAT code to Visma.net.
        code = vat_code(local.data["vat_rate"])
        if code:
            payload["vatCode"] = code
        if unit:
            payload.update(baseUnit=unit, salesUnit=unit, purchaseUnit=unit)
        if creating:
            payload["inventoryNumber"] = local.key
            payload["type"] = "NonStockItem"
        return payload

    def comparable(self, local: LocalRecord) -> dict:
        payload = self.remote_payload(local, creating=False)
        if "vatCode" in payload:
            payload["vatCode"] = {"id": payload["vatCode"]}
        return payload

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        product = (
            Product.objects.filter(tenant_id=self.tenant_id, code=remote.key)
            .select_related("unit")
            .first()
        )
        return None if product is None else self._local(product)

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        unit = remote.data["salesUnit"] or remote.data["baseUnit"]
        return {
            "code": remote.key,
            "name": remote.name,
            "unit": Unit.objects.filter(tenant_id=self.tenant_id, code=unit).first()
            if unit
            else None,
            "price": _decimal(remote.data["defaultPrice"]),
            "vat_rate": VAT_RATES.get(remote.data["vatCode"], Decimal(0)),
            "is_active": remote.data["status"] not in ("Inactive", "MarkedForDeletion"),
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        product = record_saved(
            lambda: product_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(product)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        product = Product.objects.get(tenant_id=self.tenant_id, pk=local_id)
        product = record_saved(lambda: product_update(product=product, data=self._data(remote)))
        return self._local(product)


# ---------------------------------------------------------------------------- projects
class ProjectAdapter(_Adapter):
    entity_type = "project"
    directions = TO_REMOTE
    path = "project"
    key_field = "projectID"

    def _local(self, project: SeveraProject) -> LocalRecord:
        return LocalRecord(
            id=project.pk,
            key=project.number,
            name=project.name,
            updated_at=project.updated_at,
            data={
                "customer_id": project.customer_id,
                "status": PROJECT_STATUS.get(project.sales_status, "Planned"),
            },
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        projects = SeveraProject.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            projects = projects.filter(updated_at__gt=since)
        return [self._local(project) for project in projects.order_by("pk")]

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {
            "projectID": _text(item.get("projectID")),
            "description": _text(item.get("description")),
            "status": _text(item.get("status")),
            "customer": _text((item.get("customer") or {}).get("number")),
        }
        return RemoteRecord(
            id=data["projectID"], key=data["projectID"], name=data["description"], data=data
        )

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key or len(local.key) > 30:
            return _("Visma.net ERP project ids have 1 to 30 characters.")
        customer_id = local.data["customer_id"]
        if customer_id and self.context.remote_id("customer", customer_id) is None:
            return _("The project's customer is not in Visma.net ERP yet.")
        return None

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        payload: dict[str, Any] = {"description": local.name[:255], "status": local.data["status"]}
        customer = self.context.remote_id("customer", local.data["customer_id"])
        if customer:
            payload["customer"] = customer
        if creating:
            payload["projectID"] = local.key
        return payload

    def comparable(self, local: LocalRecord) -> dict:
        payload = self.remote_payload(local, creating=False)
        return {**payload, "customer": {"number": payload.get("customer")}}

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:  # pragma: no cover
        return None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:  # pragma: no cover
        raise PermanentError(_("Projects only go from Severa to Visma.net ERP."))

    update_local = create_local  # type: ignore[assignment]


# ---------------------------------------------------------------------------- invoices
class InvoiceAdapter(_Adapter):
    entity_type = "invoice"
    directions = TO_REMOTE
    path = "customerinvoice"
    key_field = "referenceNumber"

    def __init__(self, context: VismaNetContext):
        super().__init__(context)
        self._notes: dict[int, str] = {}

    def _local(self, invoice: CustomerInvoice) -> LocalRecord:
        return invoice_local(invoice)

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        # Every invoice waiting in the sending status, whenever it got there: they leave it
        # once the system has them, and one skipped earlier is tried again.
        return invoices_in_status(self.tenant_id, self.context.connection.send_status_id)

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {
            "referenceNumber": _text(item.get("referenceNumber")),
            "customer": _text((item.get("customer") or {}).get("number")),
            "externalReference": _text(item.get("externalReference")),
            "amount": _text(item.get("amount")),
        }
        return RemoteRecord(
            id=data["referenceNumber"],
            key=data["referenceNumber"],
            name=_text((item.get("customer") or {}).get("name")),
            data=data,
        )

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if self.context.remote_id("customer", local.data["customer_id"]) is None:
            return _("The customer %(customer)s is not in Visma.net ERP yet.") % {
                "customer": local.data["customer"]
            }
        return None

    def _lines(self, local: LocalRecord) -> list[dict]:
        settings = segment_settings(self.context.connection)
        picked = settings.department_segment is not None or settings.cost_centre_segment is not None
        segments = self.context.segments() if picked else {}
        rows = local.data["rows"]
        units = BusinessUnit.objects.in_bulk(
            {row["business_unit_id"] for row in rows if row["business_unit_id"]}
        )
        centres = CostCentre.objects.in_bulk(
            {row["cost_centre_id"] for row in rows if row["cost_centre_id"]}
        )
        lines, notes = [], []
        for number, row in enumerate(rows, start=1):
            values: dict[str, Any] = {
                "description": (row["description"] or "")[:255],
                "quantity": row["quantity"],
                "unitPriceInCurrency": row["unit_price"],
            }
            code = vat_code(row["vat_rate"])
            if code:
                values["vatCodeId"] = code
            else:
                notes.append(
                    _(
                        "Row %(row)s: no Norwegian VAT code for %(rate)s %%, Visma.net ERP "
                        "applies the item's and customer's VAT."
                    )
                    % {"row": number, "rate": _text(row["vat_rate"])}
                )
            item = self.context.remote_id("product", row["product_id"])
            if item:
                values["inventoryNumber"] = item
            line: dict[str, Any] = {
                "operation": "Insert",
                **{k: {"value": v} for k, v in values.items()},
            }
            if picked:
                subaccount = row_subaccount(
                    settings,
                    segments,
                    business_unit=units.get(row["business_unit_id"]),
                    cost_centre=centres.get(row["cost_centre_id"]),
                )
                line["subaccount"] = subaccount.segments
                notes += [
                    _("Row %(row)s: %(note)s.") % {"row": number, "note": note}
                    for note in subaccount.notes
                ]
            lines.append(line)
        self._notes[local.id] = " ".join(notes)
        return lines

    def transfer_note(self, local: LocalRecord) -> str:
        return self._notes.get(local.id, "")

    def remote_payload(self, local: LocalRecord, *, creating: bool) -> dict:
        data = local.data
        payload: dict[str, Any] = {
            "customerNumber": self.context.remote_id("customer", data["customer_id"]),
            "documentDate": data["invoice_date"],
            "currencyId": data["currency"],
            "customerRefNumber": (data["reference"] or "")[:30],
            "invoiceText": (data["notes"] or "")[:255] or local.key,
            "invoiceLines": self._lines(local),
        }
        if data["due_date"]:
            payload["documentDueDate"] = data["due_date"]
        project = self.context.remote_id("project", data["project_id"])
        if project:
            payload["project"] = project
        return payload

    def _by_reference(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        customer = self.context.remote_id("customer", local.data["customer_id"])
        for item in self.client.list(self.path, customer=customer):
            if item.get("externalReference") == reference:
                return self.remote_record(item)
        return None

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        # Only an invoice whose create was begun (its intent is written before the call)
        # can be in Visma.net: the others are not looked for.
        begun = EntityMap.objects.filter(
            connection_id=self.context.connection.pk, entity_type="invoice", local_id=local.id
        ).exists()
        return self._by_reference(local, reference) if begun else None

    def lookup_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        return self._by_reference(local, reference)

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        return False  # an update replaces the lines: update_remote reads the invoice first

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        payload = self.remote_payload(local, creating=True)
        payload["externalReference"] = reference
        return self.remote_record(self.client.create(self.path, payload))

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        current = self.client.get(self.path, remote_id)
        if current.get("status") not in ("Balanced", "Hold"):
            raise PermanentError(
                _(
                    "Invoice %(number)s is released in Visma.net ERP: the changes made in "
                    "Severa are not sent."
                )
                % {"number": remote_id}
            )
        payload = self.remote_payload(local, creating=False)
        payload["invoiceLines"] = [
            {"operation": "Delete", "lineNumber": {"value": line["lineNumber"]}}
            for line in current.get("invoiceLines") or []
        ] + payload["invoiceLines"]
        record = self.client.update(
            self.path, remote_id, payload, etag=_text(current.get("timeStamp"))
        )
        return self.remote_record(record)

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:  # pragma: no cover
        return None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:  # pragma: no cover
        raise PermanentError(_("Invoices only go from Severa to Visma.net ERP."))

    update_local = create_local  # type: ignore[assignment]


# ---------------------------------------------------------------------------- project fees
class ProjectFeeAdapter(_Adapter):
    """Lines of released supplier invoices booked to a project → project fees, once each
    (keyed by the document type, reference number and line number)."""

    entity_type = "project_fee"
    directions = TO_LOCAL
    path = "supplierInvoice"

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        return []

    def _local(self, fee: ProjectFee) -> LocalRecord:
        return LocalRecord(
            id=fee.pk, key=fee.description, name=fee.description, updated_at=fee.updated_at
        )

    def list_remote(self, changed_since: datetime.datetime | None) -> Iterator[RemoteRecord]:
        since = changed_since or self.context.connection.activated_at
        for invoice in self.client.list(self.path, changed_since=since):
            if invoice.get("status") in RELEASED:
                yield from self.fee_lines(invoice)

    def fee_lines(self, invoice: dict) -> Iterator[RemoteRecord]:
        reference = _text(invoice.get("referenceNumber"))
        document_type = _text(invoice.get("documentType"))
        for line in invoice.get("invoiceLines") or []:
            project = _text((line.get("project") or {}).get("id"))
            cost = _decimal(line.get("cost"))
            if not project or cost <= 0:
                continue
            number = _text(line.get("lineNumber"))
            description = _text(line.get("transactionDescription")) or _text(
                invoice.get("description")
            )
            yield RemoteRecord(
                id=f"{document_type}-{reference}-{number}",
                key=f"{reference}/{number}",
                name=description,
                data={
                    "project": project,
                    "item": _text(line.get("inventoryNumber")),
                    "description": description,
                    "cost": _text(cost),
                    "quantity": _text(line.get("quantity")),
                    "date": _text(invoice.get("date"))[:10],
                    "supplier": _text((invoice.get("supplier") or {}).get("name")),
                    "reference": _text(invoice.get("supplierReference")),
                },
            )

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not SeveraProject.objects.filter(
            tenant_id=self.tenant_id, number=remote.data["project"]
        ).exists():
            return _("Severa has no project %(number)s.") % {"number": remote.data["project"]}
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        return None  # only the entity map pairs fees: each line comes once

    def _product(self, item: str) -> Product | None:
        if item:
            product = Product.objects.filter(tenant_id=self.tenant_id, code=item).first()
            if product is not None:
                return product
        default_id = self.context.connection.default_product_id
        if default_id is None:
            return None
        return Product.objects.filter(tenant_id=self.tenant_id, pk=default_id).first()

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        data = remote.data
        quantity = _decimal(data["quantity"]) or Decimal(1)
        # The line's cost is without VAT; the sales VAT is added when the fee is invoiced.
        unit_cost = (_decimal(data["cost"]) / quantity).quantize(Decimal("0.01"))
        product = self._product(data["item"])
        return {
            "project": SeveraProject.objects.get(tenant_id=self.tenant_id, number=data["project"]),
            "product": product,
            "description": " – ".join(
                part for part in (data["supplier"], data["reference"], data["description"]) if part
            )[:500],
            "date": datetime.date.fromisoformat(data["date"]) if data["date"] else clock.today(),
            "quantity": quantity,
            "unit_cost": unit_cost,
            "unit_price": unit_cost if product is not None else Decimal(0),
            "is_billable": product is not None,
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        fee = record_saved(
            lambda: project_fee_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(fee)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        fee = ProjectFee.objects.get(tenant_id=self.tenant_id, pk=local_id)
        fee = record_saved(lambda: project_fee_update(project_fee=fee, data=self._data(remote)))
        return self._local(fee)

    def remote_record(self, item: dict) -> RemoteRecord:  # pragma: no cover
        raise NotImplementedError


# ---------------------------------------------------------------------------- the run
def adapters_for(context: VismaNetContext) -> list[_Adapter]:
    """Dependencies first: customers and items before projects and invoices."""
    return [
        CustomerAdapter(context),
        ProductAdapter(context),
        ProjectAdapter(context),
        InvoiceAdapter(context),
        ProjectFeeAdapter(context),
    ]


def _status_move(
    context: VismaNetContext, invoice: CustomerInvoice, status_id: int, remote_id: str, why: str
) -> bool:
    status = InvoiceStatus.objects.filter(tenant_id=context.tenant_id, pk=status_id).first()
    label = f"{invoice} {invoice.customer.name}"[:300]
    try:
        record_saved(
            lambda: customer_invoice_update(customer_invoice=invoice, data={"status": status})
        )
    except PermanentError as error:
        context.log(
            "invoice",
            TransferDirection.TO_LOCAL,
            TransferOutcome.FAILED,
            local_id=invoice.pk,
            remote_id=remote_id,
            label=label,
            reason=str(error),
        )
        return False
    context.log(
        "invoice",
        TransferDirection.TO_LOCAL,
        TransferOutcome.UPDATED,
        local_id=invoice.pk,
        remote_id=remote_id,
        label=label,
        reason=why % {"number": remote_id, "status": status.name if status else ""},
    )
    return True


def invoices_mark_received(context: VismaNetContext) -> int:
    """The invoices Visma.net has (paired, unchanged since) move from the sending status to
    the received status."""
    connection = context.connection
    if connection.send_status_id is None or connection.received_status_id is None:
        return 0
    maps = {
        entity_map.local_id: entity_map
        for entity_map in EntityMap.objects.filter(
            connection_id=connection.pk, entity_type="invoice"
        ).exclude(remote_id=None)
    }
    invoices = (
        CustomerInvoice.objects.filter(
            tenant_id=context.tenant_id, status_id=connection.send_status_id, pk__in=list(maps)
        )
        .select_related("customer")
        .prefetch_related("rows")
    )
    moved = 0
    for invoice in invoices:
        entity_map = maps[invoice.pk]
        changed_at = max([invoice.updated_at] + [row.updated_at for row in invoice.rows.all()])
        if entity_map.local_updated_at is None or changed_at > entity_map.local_updated_at:
            continue
        moved += _status_move(
            context,
            invoice,
            connection.received_status_id,
            entity_map.remote_id or "",
            _("Received by Visma.net ERP as invoice %(number)s: moved to “%(status)s”."),
        )
    return moved


def invoices_mark_paid(context: VismaNetContext) -> int:
    """The invoices Visma.net shows paid (status Closed, balance 0) move to the paid status,
    when the connection has one."""
    connection = context.connection
    if connection.paid_status_id is None:
        return 0
    since = entity_since(context.run, "invoice")
    paid = {
        _text(item.get("referenceNumber"))
        for item in context.client.list("customerinvoice", changed_since=since, status="Closed")
        if _decimal(item.get("balance")) == 0
    }
    if not paid:
        return 0
    maps = dict(
        EntityMap.objects.filter(
            connection_id=connection.pk, entity_type="invoice", remote_id__in=paid
        ).values_list("local_id", "remote_id")
    )
    invoices = (
        CustomerInvoice.objects.filter(tenant_id=context.tenant_id, pk__in=list(maps))
        .exclude(status_id=connection.paid_status_id)
        .select_related("customer")
    )
    return sum(
        _status_move(
            context,
            invoice,
            connection.paid_status_id,
            maps[invoice.pk],
            _("Paid in Visma.net ERP (invoice %(number)s closed): moved to “%(status)s”."),
        )
        for invoice in invoices
    )


def vismanet_sync(
    run: SyncRun, client: VismaNetClient, facts: SystemFacts = VISMANET_FACTS
) -> dict[str, int]:
    """One run of a Visma.net ERP connection: every entity type through the engine, then the
    invoice status steps (the paid step skipped while invoices are blocked)."""
    context = VismaNetContext(run, client, facts)
    sync_entities(run, adapters_for(context), facts)
    run.counts = dict(run.counts or {})
    invoices_mark_received(context)
    with entity_guard(run, "invoice", facts, quiet=True) as allowed:
        if allowed:
            invoices_mark_paid(context)
    SyncRun.objects.filter(pk=run.pk).update(counts=run.counts)
    return dict(run.counts)
