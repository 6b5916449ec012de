"""Supplier-invoice rows booked to a project come back once each as project fees."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from integrations.adapters import LocalRecord, RemoteRecord
from integrations.errors import PermanentError
from integrations.fortnox.sync.context import (
    NOT_COST_ROW_CODES,
    ROW_AMOUNTS,
    ROW_IDENTITY,
    TO_LOCAL,
    Adapter,
    _number_text,
)
from integrations.local import decimal_of as _decimal
from integrations.local import saved as _saved
from integrations.local import text as _text
from integrations.models import EntityMap
from records.models import Product, ProjectFee
from records.models import Project as SeveraProject
from records.services.customers import project_fee_create, project_fee_update
from severa import clock


class ProjectFeeAdapter(Adapter):
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
