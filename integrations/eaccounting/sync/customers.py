"""Customers both ways."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.eaccounting.sync.context import SELLER_COUNTRY, Adapter, EEkonomiContext
from integrations.local import customer_local, customers_changed_since, customers_of, saved, text
from integrations.models import EntityMap
from records.models import AddressKind, Customer, CustomerKind
from records.services.customers import customer_create, customer_update

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


class CustomerAdapter(Adapter):
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
