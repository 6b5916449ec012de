"""Customers both ways, with their addresses."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Max
from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.local import saved as record_saved
from integrations.vismanet.sync.context import Adapter, _text
from records.models import AddressKind, Customer, CustomerKind
from records.services.customers import customer_create, customer_update

ADDRESS_LINES = ("addressLine1", "postalCode", "city", "countryId")


def _address_of(read: dict | None) -> tuple[str, str, str, str]:
    read = read or {}
    return (
        _text(read.get("addressLine1")),
        _text(read.get("postalCode")),
        _text(read.get("city")),
        _text((read.get("country") or {}).get("id")),
    )


class CustomerAdapter(Adapter):
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
