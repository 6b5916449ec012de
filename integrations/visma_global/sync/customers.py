"""Customers: a customer goes once it has a won project."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Max, Q
from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.local import saved as local_saved
from integrations.visma_global.sync.context import ADDRESS_KINDS, Adapter, _text
from records.models import Customer, SalesStatus
from records.services.customers import customer_create, customer_update


class CustomerAdapter(Adapter):
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
