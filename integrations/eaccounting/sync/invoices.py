"""Customer invoices to eEkonomi as drafts, with the VAT code of each row."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.eaccounting.sync.context import (
    DOMESTIC_VAT_CODES,
    OUTSIDE_EU_VAT_CODE,
    REVERSE_CHARGE_VAT_CODE,
    SELLER_COUNTRY,
    Adapter,
)
from integrations.errors import PermanentError
from integrations.facts import TO_REMOTE
from integrations.local import invoices_in_status, text
from integrations.models import OrderReferenceTo
from records.models import AddressKind, Customer, CustomerKind
from severa.vat import CATEGORY_OUTSIDE_SCOPE, CATEGORY_REVERSE_CHARGE, buyer_vat_decision


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


class InvoiceAdapter(Adapter):
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
