"""Customers both ways, matched by customer number; only companies come to Severa."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from django.db.models import Max
from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.fortnox.client import CUSTOMERS
from integrations.fortnox.sync.context import ADDRESS_FIELDS, CUSTOMER_FIELDS, Adapter
from integrations.local import first_address_by_kind as _first_by_kind
from integrations.local import saved as _saved
from integrations.local import text as _text
from integrations.models import Master
from records.models import Customer, CustomerKind
from records.services.customers import customer_create, customer_update


class CustomerAdapter(Adapter):
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
