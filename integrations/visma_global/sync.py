"""The Visma Global sync (the Severa ↔ Visma Global guide): one adapter per entity type for
the engine (integrations/engine.py), whose calls to Visma Global are jobs of the agent
(integrations/agents.py `AgentChannel`), then the steps that bring invoice states back.

Rules, per the guide:

- **Business units ↔ departments** both ways, matched by code (department number) and name.
- **Employees**: every user of the company is an employee (`employee_sync_from_members`)
  and goes to Visma Global; Visma Global's employees with an e-mail address come back;
  matched by e-mail address, else by name.
- **Products, travels and work types ↔ the product register** both ways (the article type
  tells which), matched by code (article number) and name; a product without a code stays.
- **Customers**: ours go to Visma Global only once they have a project in *won* status; all
  of Visma Global's of the transferable customer types (a setting; all when none is chosen)
  come here, with addresses and contacts; matched by number and name.
- **Projects**: ours in *won* status go to Visma Global; Visma Global's come here (as won);
  matched by number and name.
- **Invoices** reaching the sending status go to Visma Global as **orders** (`ExternalRef`
  carries our reference; attachments are not transferred) and move to the received status.
  When a person has made the order an invoice and sent it, the invoice moves to the sent
  (received) status with Visma Global's invoice number; when paid, to the paid status.
- **Supplier invoices** rows booked to a project come back once each as project fees,
  billable or cost only as the connection says, with the row's article when Severa has it,
  else the default fee product.
- **Master per entity type** (`Connection.master_for`): new records flow both ways; updates
  only from the master.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Max, Q
from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord, names_match
from integrations.agents import AgentChannel
from integrations.engine import entity_guard, entity_since, sync_entities
from integrations.errors import PermanentError
from integrations.facts import BOTH, TO_LOCAL, TO_REMOTE, SystemFacts
from integrations.local import saved as local_saved
from integrations.models import EntityMap, SyncRun, Transfer, TransferDirection, TransferOutcome
from integrations.visma_global.facts import VISMA_GLOBAL_FACTS
from records.models import (
    BusinessUnit,
    Customer,
    CustomerInvoice,
    Employee,
    InvoiceStatus,
    Product,
    ProductKind,
    ProjectFee,
    SalesStatus,
)
from records.models import Project as SeveraProject
from records.services.customers import (
    customer_create,
    customer_update,
    project_create,
    project_fee_create,
    project_update,
)
from records.services.invoices import customer_invoice_update
from records.services.organisation import (
    business_unit_create,
    business_unit_update,
    employee_create,
    employee_sync_from_members,
    employee_update,
)
from records.services.products import product_create, product_update
from severa import clock

ARTICLE_TYPES = {
    ProductKind.WORK_TYPE: "Work",
    ProductKind.TRAVEL: "Travel",
    ProductKind.PRODUCT: "Product",
}
PRODUCT_KINDS = {value: key for key, value in ARTICLE_TYPES.items()}
ADDRESS_KINDS = ("invoice", "postal", "office", "visiting")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class VismaGlobalContext:
    """What the adapters of one run share: the run, its connection, the agent channel."""

    def __init__(
        self, run: SyncRun, channel: AgentChannel, facts: SystemFacts = VISMA_GLOBAL_FACTS
    ):
        self.run = run
        self.connection = run.connection
        self.tenant = run.connection.tenant
        self.tenant_id = run.tenant_id
        self.channel = channel
        self.facts = facts
        options = getattr(getattr(run.connection, "agent", None), "options", None) or {}
        self.options: dict[str, Any] = options

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
    """A register of Visma Global through the agent: list, get (by number), create and
    update, each one job; writes carry the record's reference as their idempotency id."""

    entity_type = ""
    register = ""
    key_field = ""
    name_field = "Name"
    fields: tuple[str, ...] = ()
    directions = BOTH
    match_key_only = False

    def __init__(self, context: VismaGlobalContext):
        self.context = context
        self.channel = context.channel
        self.tenant_id = context.tenant_id

    # Remote side ----------------------------------------------------------------------
    def remote_record(self, item: dict) -> RemoteRecord:
        data = {name: item.get(name) for name in (self.key_field, *self.fields)}
        key = _text(item.get(self.key_field))
        return RemoteRecord(id=key, key=key, name=_text(item.get(self.name_field)), data=data)

    def list_remote(self, changed_since: datetime.datetime | None) -> Iterable[RemoteRecord]:
        items = self.channel.call(
            "list", {"register": self.register, "changed_since": _iso(changed_since)}
        )
        return [self.remote_record(item) for item in items or []]

    def read_remote(self, remote_id: str) -> RemoteRecord | None:
        item = self.channel.call("get", {"register": self.register, "key": remote_id})
        return self.remote_record(item) if item else None

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if not local.key:
            return None
        return self.read_remote(local.key)

    def lookup_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        return self.find_remote(local, reference)

    def payload(self, local: LocalRecord, *, creating: bool) -> dict[str, Any]:
        raise NotImplementedError

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        return self.context.facts.payload_matches(
            self.payload(local, creating=False), dict(remote.data)
        )

    def write_id(self, local: LocalRecord, action: str) -> str:
        return f"severa-{self.context.connection.pk}-{self.entity_type}-{local.id}-{action}"

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        item = self.channel.call(
            "create",
            {"register": self.register, "fields": self.payload(local, creating=True)},
            write_id=f"{reference}-create",
        )
        return self.remote_record(item)

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        item = self.channel.call(
            "update",
            {
                "register": self.register,
                "key": remote_id,
                "fields": self.payload(local, creating=False),
            },
            write_id=self.write_id(local, f"update-{local.updated_at.isoformat()}"),
        )
        return self.remote_record(item)

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if not local.key:
            return _("Records are matched by number/code: give this one a number/code.")
        return None

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        return None


# ---------------------------------------------------------------------------- departments
class DepartmentAdapter(_Adapter):
    entity_type = "business_unit"
    register = "department"
    key_field = "DepartmentNo"
    fields = ("Name",)

    def _local(self, unit: BusinessUnit) -> LocalRecord:
        return LocalRecord(id=unit.pk, key=unit.code, name=unit.name, updated_at=unit.updated_at)

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        units = BusinessUnit.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            units = units.filter(updated_at__gt=since)
        return [self._local(unit) for unit in units.order_by("pk")]

    def payload(self, local: LocalRecord, *, creating: bool) -> dict[str, Any]:
        payload = {"Name": local.name[:50]}
        if creating:
            payload["DepartmentNo"] = local.key
        return payload

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        unit = BusinessUnit.objects.filter(tenant_id=self.tenant_id, code=remote.key).first()
        return self._local(unit) if unit else None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        unit = local_saved(
            lambda: business_unit_create(
                tenant=self.context.tenant, data={"code": remote.key, "name": remote.name}
            )
        )
        return self._local(unit)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        unit = BusinessUnit.objects.get(tenant_id=self.tenant_id, pk=local_id)
        unit = local_saved(
            lambda: business_unit_update(business_unit=unit, data={"name": remote.name})
        )
        return self._local(unit)


# ---------------------------------------------------------------------------- employees
class EmployeeAdapter(_Adapter):
    """Matched by e-mail address (Severa's employees have no number), else by name; an
    employee gets the Visma Global number `S<id>` when created there."""

    entity_type = "employee"
    register = "employee"
    key_field = "EmployeeNo"
    fields = ("FirstName", "LastName", "Email", "Active")

    def remote_record(self, item: dict) -> RemoteRecord:
        record = super().remote_record(item)
        name = f"{_text(item.get('FirstName'))} {_text(item.get('LastName'))}".strip()
        return RemoteRecord(
            id=record.id, key=_text(item.get("Email")).lower(), name=name, data=record.data
        )

    def _local(self, employee: Employee) -> LocalRecord:
        return LocalRecord(
            id=employee.pk,
            key=employee.email.lower(),
            name=str(employee),
            updated_at=employee.updated_at,
            data={
                "first_name": employee.first_name,
                "last_name": employee.last_name,
                "email": employee.email,
                "is_active": employee.is_active,
            },
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        employees = Employee.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            employees = employees.filter(updated_at__gt=since)
        return [self._local(employee) for employee in employees.order_by("pk")]

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        return None  # every employee goes

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        if local.key:
            item = self.channel.call(
                "find", {"register": "employee", "field": "Email", "value": local.data["email"]}
            )
            if item:
                return self.remote_record(item)
        return self.read_remote(f"S{local.id}")

    def payload(self, local: LocalRecord, *, creating: bool) -> dict[str, Any]:
        data = local.data
        payload = {
            "FirstName": data["first_name"][:50],
            "LastName": data["last_name"][:50],
            "Email": data["email"],
            "Active": bool(data["is_active"]),
        }
        if creating:
            payload["EmployeeNo"] = f"S{local.id}"
        return payload

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not remote.key:
            return _("Only employees with an e-mail address come from Visma Global.")
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        employees = Employee.objects.filter(tenant_id=self.tenant_id)
        employee = employees.filter(email__iexact=remote.key).first() if remote.key else None
        if employee is None:
            employee = next((e for e in employees if names_match(str(e), remote.name)), None)
        return self._local(employee) if employee else None

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        data = remote.data
        return {
            "first_name": _text(data.get("FirstName")) or remote.name,
            "last_name": _text(data.get("LastName")),
            "email": _text(data.get("Email")),
            "is_active": data.get("Active") is not False,
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        employee = local_saved(
            lambda: employee_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(employee)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        employee = Employee.objects.get(tenant_id=self.tenant_id, pk=local_id)
        employee = local_saved(lambda: employee_update(employee=employee, data=self._data(remote)))
        return self._local(employee)


# ---------------------------------------------------------------------------- products
class ArticleAdapter(_Adapter):
    entity_type = "product"
    register = "article"
    key_field = "ArticleNo"
    fields = ("Name", "ArticleType", "Price", "VatRate", "Active")

    def _local(self, product: Product) -> LocalRecord:
        return LocalRecord(
            id=product.pk,
            key=product.code,
            name=product.name,
            updated_at=product.updated_at,
            data={
                "kind": product.kind,
                "price": str(product.price),
                "vat_rate": str(product.vat_rate),
                "is_active": product.is_active,
            },
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        products = Product.objects.filter(tenant_id=self.tenant_id)
        if since is not None:
            products = products.filter(updated_at__gt=since)
        return [self._local(product) for product in products.order_by("pk")]

    def payload(self, local: LocalRecord, *, creating: bool) -> dict[str, Any]:
        data = local.data
        payload = {
            "Name": local.name[:80],
            "ArticleType": ARTICLE_TYPES.get(data["kind"], "Product"),
            "Price": data["price"],
            "VatRate": data["vat_rate"],
            "Active": bool(data["is_active"]),
        }
        if creating:
            payload["ArticleNo"] = local.key
        return payload

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        if not remote.key.isdigit():
            return _(
                "Severa's product codes are digits only: article %(number)s stays in Visma Global."
            ) % {"number": remote.key}
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        product = Product.objects.filter(tenant_id=self.tenant_id, code=remote.key).first()
        return self._local(product) if product else None

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        data = remote.data
        return {
            "code": remote.key,
            "name": remote.name,
            "kind": PRODUCT_KINDS.get(_text(data.get("ArticleType")), ProductKind.PRODUCT),
            "price": _decimal(data.get("Price")),
            "vat_rate": _decimal(data.get("VatRate")),
            "is_active": data.get("Active") is not False,
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        product = local_saved(
            lambda: product_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(product)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        product = Product.objects.get(tenant_id=self.tenant_id, pk=local_id)
        product = local_saved(lambda: product_update(product=product, data=self._data(remote)))
        return self._local(product)


# ---------------------------------------------------------------------------- customers
class CustomerAdapter(_Adapter):
    entity_type = "customer"
    register = "customer"
    key_field = "CustomerNo"
    fields = (
        "Name",
        "CustomerTypeNo",
        "OrgNo",
        "VatNo",
        "Email",
        "Phone",
        "Addresses",
        "Contacts",
        "Active",
    )

    def _customers(self):
        return Customer.objects.filter(tenant_id=self.tenant_id).prefetch_related(
            "addresses", "contacts"
        )

    def _local(self, customer: Customer) -> LocalRecord:
        addresses = sorted(customer.addresses.all(), key=lambda a: a.pk)
        contacts = sorted(customer.contacts.all(), key=lambda c: c.pk)
        updated_at = max(
            [customer.updated_at]
            + [a.updated_at for a in addresses]
            + [c.updated_at for c in contacts]
        )
        return LocalRecord(
            id=customer.pk,
            key=customer.number,
            name=customer.name,
            updated_at=updated_at,
            data={
                "vat_number": customer.vat_number,
                "organisation_number": customer.organisation_number,
                "email": customer.email,
                "phone": customer.phone,
                "is_active": customer.is_active,
                "addresses": [
                    {
                        "Kind": a.kind,
                        "Street": a.street,
                        "PostalCode": a.postal_code,
                        "City": a.city,
                        "Country": a.country,
                    }
                    for a in addresses
                ],
                "contacts": [
                    {
                        "FirstName": c.first_name,
                        "LastName": c.last_name,
                        "Email": c.email,
                        "Phone": c.phone,
                    }
                    for c in contacts
                ],
            },
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        """Only customers with a project in won status go (a project becoming won brings its
        customer along)."""
        customers = self._customers().filter(projects__sales_status=SalesStatus.WON).distinct()
        if since is not None:
            changed = (
                customers.annotate(
                    address_at=Max("addresses__updated_at"),
                    contact_at=Max("contacts__updated_at"),
                    project_at=Max(
                        "projects__updated_at", filter=Q(projects__sales_status=SalesStatus.WON)
                    ),
                )
                .values_list("pk", "updated_at", "address_at", "contact_at", "project_at")
                .order_by()
            )
            ids = [
                pk for pk, *moments in changed if any(m is not None and m > since for m in moments)
            ]
            customers = self._customers().filter(pk__in=ids)
        return [self._local(customer) for customer in customers.order_by("pk")]

    def payload(self, local: LocalRecord, *, creating: bool) -> dict[str, Any]:
        data = local.data
        payload: dict[str, Any] = {
            "Name": local.name[:80],
            "OrgNo": data["organisation_number"],
            "VatNo": data["vat_number"],
            "Email": data["email"],
            "Phone": data["phone"],
            "Active": bool(data["is_active"]),
            "Addresses": data["addresses"],
            "Contacts": data["contacts"],
        }
        if creating:
            payload["CustomerNo"] = local.key
            default_type = self.context.options.get("new_customer_type")
            if default_type:
                payload["CustomerTypeNo"] = int(default_type)
        return payload

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        types = [int(value) for value in self.context.options.get("customer_types") or []]
        if types and remote.data.get("CustomerTypeNo") not in types:
            return _("Customer type %(type)s is not among the types that transfer.") % {
                "type": remote.data.get("CustomerTypeNo")
            }
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        customer = self._customers().filter(number=remote.key).first()
        return self._local(customer) if customer else None

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        data = remote.data
        return {
            "number": remote.key,
            "name": remote.name,
            "vat_number": _text(data.get("VatNo")),
            "organisation_number": _text(data.get("OrgNo")),
            "email": _text(data.get("Email")),
            "phone": _text(data.get("Phone")),
            "is_active": data.get("Active") is not False,
            "addresses": [
                {
                    "kind": a.get("Kind") if a.get("Kind") in ADDRESS_KINDS else "invoice",
                    "street": _text(a.get("Street")),
                    "postal_code": _text(a.get("PostalCode")),
                    "city": _text(a.get("City")),
                    "country": _text(a.get("Country")),
                }
                for a in data.get("Addresses") or []
            ],
            "contacts": [
                {
                    "first_name": _text(c.get("FirstName")),
                    "last_name": _text(c.get("LastName")) or _text(c.get("FirstName")),
                    "email": _text(c.get("Email")),
                    "phone": _text(c.get("Phone")),
                }
                for c in data.get("Contacts") or []
            ],
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        customer = local_saved(
            lambda: customer_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(self._customers().get(pk=customer.pk))

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        customer = Customer.objects.get(tenant_id=self.tenant_id, pk=local_id)
        customer = local_saved(lambda: customer_update(customer=customer, data=self._data(remote)))
        return self._local(self._customers().get(pk=customer.pk))


# ---------------------------------------------------------------------------- projects
class ProjectAdapter(_Adapter):
    entity_type = "project"
    register = "project"
    key_field = "ProjectNo"
    fields = ("Name", "CustomerNo", "Status")

    def _local(self, project: SeveraProject) -> LocalRecord:
        return LocalRecord(
            id=project.pk,
            key=project.number,
            name=project.name,
            updated_at=project.updated_at,
            data={"customer_id": project.customer_id, "customer_number": project.customer.number},
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        projects = SeveraProject.objects.filter(
            tenant_id=self.tenant_id, sales_status=SalesStatus.WON
        )
        if since is not None:
            projects = projects.filter(updated_at__gt=since)
        return [
            self._local(project) for project in projects.select_related("customer").order_by("pk")
        ]

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if self.context.remote_id("customer", local.data["customer_id"]) is None:
            return _("Its customer is not in Visma Global yet.")
        return super().local_skip_reason(local)

    def payload(self, local: LocalRecord, *, creating: bool) -> dict[str, Any]:
        payload = {
            "Name": local.name[:80],
            "CustomerNo": self.context.remote_id("customer", local.data["customer_id"]),
            "Status": "Active",
        }
        if creating:
            payload["ProjectNo"] = local.key
        return payload

    def remote_skip_reason(self, remote: RemoteRecord) -> str | None:
        number = _text(remote.data.get("CustomerNo"))
        if (
            not number
            or not Customer.objects.filter(tenant_id=self.tenant_id, number=number).exists()
        ):
            return _("Its customer %(number)s is not in Severa.") % {"number": number or "–"}
        return None

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:
        project = (
            SeveraProject.objects.filter(tenant_id=self.tenant_id, number=remote.key)
            .select_related("customer")
            .first()
        )
        return self._local(project) if project else None

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        customer = Customer.objects.get(
            tenant_id=self.tenant_id, number=_text(remote.data.get("CustomerNo"))
        )
        return {"number": remote.key, "name": remote.name, "customer": customer}

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        data = {**self._data(remote), "sales_status": SalesStatus.WON}
        project = local_saved(lambda: project_create(tenant=self.context.tenant, data=data))
        return self._local(project)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        project = SeveraProject.objects.get(tenant_id=self.tenant_id, pk=local_id)
        project = local_saved(lambda: project_update(project=project, data=self._data(remote)))
        return self._local(project)


# ---------------------------------------------------------------------------- invoices
class OrderAdapter(_Adapter):
    """Invoices in the sending status → orders (Severa → Visma Global only)."""

    entity_type = "invoice"
    register = "order"
    key_field = "OrderNo"
    name_field = "ExternalRef"
    fields = ("CustomerNo", "ProjectNo", "ExternalRef", "Currency")
    directions = TO_REMOTE
    match_key_only = True

    def _local(self, invoice: CustomerInvoice) -> LocalRecord:
        rows = list(invoice.rows.all())
        return LocalRecord(
            id=invoice.pk,
            key="",
            name=f"{invoice.number} {invoice.customer.name}".strip(),
            updated_at=max([invoice.updated_at] + [row.updated_at for row in rows]),
            data={
                "customer_id": invoice.customer_id,
                "project_id": invoice.project_id,
                "date": invoice.invoice_date.isoformat(),
                "due_date": invoice.due_date.isoformat() if invoice.due_date else "",
                "currency": invoice.currency,
                "rows": [
                    {
                        "product_id": row.product_id,
                        "description": row.description,
                        "quantity": str(row.quantity),
                        "unit_price": str(row.unit_price),
                        "vat_rate": str(row.vat_rate),
                        "business_unit_id": row.business_unit_id,
                    }
                    for row in sorted(rows, key=lambda r: (r.position, r.pk))
                ],
            },
        )

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        """Invoices in the sending status whose customer is in Visma Global (an invoice
        waits for its customer, which goes once it has a won project, and is read again
        when its customer gets there)."""
        send_status = self.context.connection.send_status_id
        if send_status is None:
            return []
        customers = EntityMap.objects.filter(
            connection_id=self.context.connection.pk, entity_type="customer"
        ).exclude(remote_id=None)
        invoices = CustomerInvoice.objects.filter(
            tenant_id=self.tenant_id,
            status_id=send_status,
            customer_id__in=customers.values("local_id"),
        )
        if since is not None:
            invoices = invoices.filter(
                Q(updated_at__gt=since)
                | Q(rows__updated_at__gt=since)
                | Q(customer_id__in=customers.filter(updated_at__gt=since).values("local_id"))
            ).distinct()
        invoices = invoices.select_related("customer").prefetch_related("rows")
        return [self._local(invoice) for invoice in invoices.order_by("pk")]

    def local_skip_reason(self, local: LocalRecord) -> str | None:
        if self.context.remote_id("customer", local.data["customer_id"]) is None:
            return _(
                "Its customer is not in Visma Global: "
                "customers go there once they have a won project."
            )
        return None

    def remote_record(self, item: dict) -> RemoteRecord:
        data = {name: item.get(name) for name in ("OrderNo", *self.fields)}
        return RemoteRecord(
            id=_text(item.get("OrderNo")),
            key=_text(item.get("ExternalRef")),
            name=_text(item.get("ExternalRef")),
            data=data,
        )

    def find_remote(self, local: LocalRecord, reference: str) -> RemoteRecord | None:
        item = self.channel.call(
            "find", {"register": "order", "field": "ExternalRef", "value": reference}
        )
        return self.remote_record(item) if item else None

    def payload(self, local: LocalRecord, *, creating: bool) -> dict[str, Any]:
        data = local.data
        rows = []
        for row in data["rows"]:
            rows.append(
                {
                    "ArticleNo": self.context.remote_id("product", row["product_id"]) or "",
                    "Text": row["description"][:80],
                    "Quantity": row["quantity"],
                    "Price": row["unit_price"],
                    "VatRate": row["vat_rate"],
                    "DepartmentNo": self.context.remote_id("business_unit", row["business_unit_id"])
                    or "",
                }
            )
        return {
            "CustomerNo": self.context.remote_id("customer", data["customer_id"]),
            "ProjectNo": self.context.remote_id("project", data["project_id"]) or "",
            "OrderDate": data["date"],
            "DueDate": data["due_date"],
            "Currency": data["currency"],
            "Rows": rows,
        }

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:
        fields = {**self.payload(local, creating=True), "ExternalRef": reference}
        item = self.channel.call(
            "create", {"register": "order", "fields": fields}, write_id=f"{reference}-create"
        )
        return self.remote_record(item)

    def update_remote(self, remote_id: str, local: LocalRecord) -> RemoteRecord:
        raise PermanentError(
            _(
                "The invoice was changed after it was sent to Visma Global as order %(number)s: "
                "change the order there."
            )
            % {"number": remote_id}
        )

    def remote_is_current(self, local: LocalRecord, remote: RemoteRecord) -> bool:
        return True

    def find_local(self, remote: RemoteRecord) -> LocalRecord | None:  # pragma: no cover
        return None

    def create_local(self, remote: RemoteRecord) -> LocalRecord:  # pragma: no cover
        raise PermanentError(_("Orders do not come from Visma Global."))

    update_local = create_local


# ---------------------------------------------------------------------------- supplier invoices
class SupplierInvoiceAdapter(_Adapter):
    """Supplier-invoice rows booked to a project → project fees, once each, billable or
    cost only as the connection says."""

    entity_type = "project_fee"
    directions = TO_LOCAL

    def local_changed_since(self, since: datetime.datetime | None) -> list[LocalRecord]:
        return []

    def _local(self, fee: ProjectFee) -> LocalRecord:
        return LocalRecord(
            id=fee.pk, key=fee.description, name=fee.description, updated_at=fee.updated_at
        )

    def list_remote(self, changed_since: datetime.datetime | None) -> Iterable[RemoteRecord]:
        since = changed_since or self.context.connection.activated_at
        records = []
        for invoice in self.channel.call("supplier_invoices", {"changed_since": _iso(since)}) or []:
            for row in invoice.get("Rows") or []:
                project = _text(row.get("ProjectNo"))
                if not project or _decimal(row.get("Amount")) <= 0:
                    continue
                number = _text(invoice.get("SupplierInvoiceNo"))
                records.append(
                    RemoteRecord(
                        id=f"{number}-{row.get('RowNo')}",
                        key=f"{number}/{row.get('RowNo')}",
                        name=_text(row.get("Text")) or _text(invoice.get("SupplierName")),
                        data={
                            "project": project,
                            "article": _text(row.get("ArticleNo")),
                            "text": _text(row.get("Text")),
                            "amount": _text(row.get("Amount")),
                            "quantity": _text(row.get("Quantity")),
                            "date": _text(invoice.get("InvoiceDate")),
                            "supplier": _text(invoice.get("SupplierName")),
                            "invoice": number,
                        },
                    )
                )
        return records

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
        return (
            Product.objects.filter(tenant_id=self.tenant_id, pk=default_id).first()
            if default_id
            else None
        )

    def _data(self, remote: RemoteRecord) -> dict[str, Any]:
        data = remote.data
        quantity = _decimal(data["quantity"]) or Decimal(1)
        unit_cost = (_decimal(data["amount"]) / quantity).quantize(Decimal("0.01"))
        billable = bool(self.context.options.get("supplier_invoices_billable", True))
        return {
            "project": SeveraProject.objects.get(tenant_id=self.tenant_id, number=data["project"]),
            "product": self._product(data["article"]),
            "description": " – ".join(
                p for p in (data["supplier"], data["invoice"], data["text"]) if p
            )[:500],
            "date": datetime.date.fromisoformat(data["date"]) if data["date"] else clock.today(),
            "quantity": quantity,
            "unit_cost": unit_cost,
            "unit_price": unit_cost if billable else Decimal(0),
            "is_billable": billable,
        }

    def create_local(self, remote: RemoteRecord) -> LocalRecord:
        fee = local_saved(
            lambda: project_fee_create(tenant=self.context.tenant, data=self._data(remote))
        )
        return self._local(fee)

    def update_local(self, local_id: int, remote: RemoteRecord) -> LocalRecord:
        return self._local(ProjectFee.objects.get(tenant_id=self.tenant_id, pk=local_id))

    def create_remote(self, local: LocalRecord, reference: str) -> RemoteRecord:  # pragma: no cover
        raise PermanentError(_("Project costs only come from Visma Global."))

    update_remote = create_remote  # type: ignore[assignment]


def adapters_for(context: VismaGlobalContext) -> list[_Adapter]:
    """Dependencies first: departments, employees and products, then customers, projects,
    orders and supplier invoices."""
    return [
        DepartmentAdapter(context),
        EmployeeAdapter(context),
        ArticleAdapter(context),
        CustomerAdapter(context),
        ProjectAdapter(context),
        OrderAdapter(context),
        SupplierInvoiceAdapter(context),
    ]


# ---------------------------------------------------------------------------- invoice states
def _status_move(
    context: VismaGlobalContext,
    invoice: CustomerInvoice,
    status_id: int,
    reason: str,
    remote_id: str,
) -> bool:
    status = InvoiceStatus.objects.filter(tenant_id=context.tenant_id, pk=status_id).first()
    label = f"{invoice.number} {invoice.customer.name}".strip()[:300]
    try:
        local_saved(
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
        reason=reason,
    )
    return True


def invoice_states_apply(context: VismaGlobalContext) -> int:
    """Orders Visma Global has made invoices of and sent → the received (sent) status;
    paid ones → the paid status. Returns how many invoices moved."""
    connection = context.connection
    maps = dict(
        EntityMap.objects.filter(connection_id=connection.pk, entity_type="invoice")
        .exclude(remote_id=None)
        .values_list("remote_id", "local_id")
    )
    if not maps:
        return 0
    since = entity_since(context.run, "invoice_state")
    states = context.channel.call("order_states", {"changed_since": _iso(since)}) or []
    moved = 0
    for state in states:
        local_id = maps.get(_text(state.get("OrderNo")))
        if local_id is None:
            continue
        invoice = (
            CustomerInvoice.objects.select_related("customer")
            .filter(tenant_id=context.tenant_id, pk=local_id)
            .first()
        )
        if invoice is None:
            continue
        number = _text(state.get("InvoiceNo"))
        target, reason = None, ""
        if (
            state.get("Paid")
            and connection.paid_status_id
            and invoice.status_id != connection.paid_status_id
        ):
            target = connection.paid_status_id
            reason = _("Paid in Visma Global (invoice %(number)s).") % {"number": number}
        elif (
            state.get("Sent")
            and connection.received_status_id
            and invoice.status_id not in (connection.received_status_id, connection.paid_status_id)
        ):
            target = connection.received_status_id
            reason = _("Invoiced and sent in Visma Global as invoice %(number)s.") % {
                "number": number
            }
        if target and _status_move(context, invoice, target, reason, _text(state.get("OrderNo"))):
            moved += 1
    return moved


def visma_global_sync(
    run: SyncRun, channel: AgentChannel, facts: SystemFacts = VISMA_GLOBAL_FACTS
) -> dict[str, int]:
    """One run: every user is an employee first, then each entity type through the engine,
    then the invoice states from Visma Global."""
    context = VismaGlobalContext(run, channel, facts)
    employee_sync_from_members(context.tenant)
    sync_entities(run, adapters_for(context), facts)
    run.counts = dict(run.counts or {})
    with entity_guard(run, "invoice", facts, quiet=True) as allowed:
        if allowed:
            invoice_states_apply(context)
    SyncRun.objects.filter(pk=run.pk).update(counts=run.counts)
    return dict(run.counts)
