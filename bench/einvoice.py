"""E-invoices: documents per second for generation alone and with validation, Finvoice and
UBL separately.

1,000 issued documents (by default; `BENCH_EINVOICES`) are inserted in bulk with the
snapshots the invoicing engine writes: Finnish domestic invoices in EUR at 25.5 %, Swedish
sellers' reverse-charged invoices to Finnish buyers, Finnish sellers' invoices to Norwegian
buyers in NOK outside the scope of VAT, Swedish domestic invoices in SEK with cash rounding,
each with 1 to 6 lines, and every tenth one credited in part (909 invoices and 91 credit
notes). They are read once with their
lines (the downloads' query), then each format is generated for all of them (generation
alone), and generated and validated (Finvoice: XSD and our own checks; UBL: XSD, EN 16931
and Peppol schematron). Loading the schemas and compiling the XSLTs is timed apart
(`validator_startup_seconds`); every document must validate (`invalid_*` = 0).
"""

import datetime
import os
import random
import time
from decimal import Decimal

from bench.harness import bench_database

DOCUMENTS = int(os.environ.get("BENCH_EINVOICES", "1000"))


def _populate(count: int) -> None:
    from accounts.models import Tenant
    from billing.invoicing import invoice_buyer_snapshot, invoice_totals, seller_snapshot
    from billing.models import Invoice, InvoiceLine
    from billing.references import reference_for
    from tests.billing.einvoice.builders import buyer_create, seller_create

    randomness = random.Random(20240901)  # noqa: S311 (figures, not secrets)
    sellers = {
        "FI": seller_create("FI"),
        "SE": seller_create("SE"),
        "SE-rounding": seller_create("SE", cash_rounding=True),
    }
    # (seller, buyer country, currency, VAT category, rate, note, buyer routing)
    kinds = [
        ("FI", "FI", "EUR", "S", Decimal("25.5"), "", {"peppol_id": "0216:003701120389"}),
        (
            "SE",
            "FI",
            "EUR",
            "AE",
            Decimal(0),
            "Reverse charge: VAT Directive 2006/112/EC article 196",
            {"einvoice_address": "003701120389", "einvoice_operator": "003721291126"},
        ),
        (
            "FI",
            "NO",
            "NOK",
            "O",
            Decimal(0),
            "Outside the scope of EU VAT",
            {"peppol_id": "0192:923609016"},
        ),
        ("SE-rounding", "SE", "SEK", "S", Decimal(25), "", {"peppol_id": "0007:5567321707"}),
    ]
    buyers = {}
    for _seller, country, _currency, _category, _rate, _note, routing in kinds:
        buyers[country] = buyers.get(country) or buyer_create(
            country, name=f"Bench Åström & Co {country}", **routing
        )
    snapshots = {
        country: invoice_buyer_snapshot(tenant=tenant) for country, tenant in buyers.items()
    }
    issued_at = datetime.datetime(2024, 9, 2, 6, tzinfo=datetime.UTC)
    invoices, all_lines = [], []
    for index in range(count):
        seller_key, country, currency, category, rate, note, _routing = kinds[index % len(kinds)]
        seller = sellers[seller_key]
        lines = []
        for position in range(1, randomness.randint(1, 6) + 1):
            quantity = Decimal(randomness.randint(1, 40))
            unit_price = Decimal(randomness.randint(100, 90000)) / 100
            days = randomness.randint(1, 30)
            net = (quantity * unit_price * days / 30).quantize(Decimal("0.01"))
            lines.append(
                InvoiceLine(
                    tenant=buyers[country],
                    position=position,
                    description=f"Professional, seats ({days}/30 days)",
                    period_start=datetime.date(2024, 9, 31 - days),
                    period_end=datetime.date(2024, 9, 30),
                    quantity=quantity,
                    unit_price=unit_price,
                    vat_category=category,
                    vat_rate=rate,
                    net=net,
                )
            )
        net, vat, rounding, total = invoice_totals(
            lines=lines, currency=currency, cash_rounding=seller.cash_rounding
        )
        invoices.append(
            Invoice(
                tenant=buyers[country],
                seller=seller,
                series="BENCH",
                number=index + 1,
                invoice_date=datetime.date(2024, 9, 2),
                due_date=datetime.date(2024, 9, 16),
                currency=currency,
                reference=reference_for(seller.country, f"1{index + 1:07d}"),
                seller_snapshot=seller_snapshot(seller=seller, currency=currency),
                buyer_snapshot=snapshots[country],
                vat_note=note,
                net=net,
                vat=vat,
                rounding=rounding,
                total=total,
                issued_at=issued_at,
            )
        )
        all_lines.append(lines)
    created = Invoice.objects.bulk_create(invoices)
    for invoice, lines in zip(created, all_lines, strict=True):
        for line in lines:
            line.invoice = invoice
    InvoiceLine.objects.bulk_create([line for lines in all_lines for line in lines])
    # Every tenth invoice credited in part (its first line in half), as a credit note.
    notes, note_lines = [], []
    for invoice, lines in list(zip(created, all_lines, strict=True))[::10]:
        line = lines[0]
        credited = [
            InvoiceLine(
                tenant=line.tenant,
                position=1,
                credited_line=line,
                description=line.description,
                period_start=line.period_start,
                period_end=line.period_end,
                quantity=-(line.quantity / 2).quantize(Decimal("0.01")),
                unit_price=line.unit_price,
                vat_category=line.vat_category,
                vat_rate=line.vat_rate,
                net=-(line.net / 2).quantize(Decimal("0.01")),
            )
        ]
        net, vat, rounding, total = invoice_totals(
            credited, currency=invoice.currency, cash_rounding=invoice.seller.cash_rounding
        )
        number = count + len(notes) + 1
        notes.append(
            Invoice(
                tenant=invoice.tenant,
                seller=invoice.seller,
                kind="credit_note",
                credited_invoice=invoice,
                series="BENCH",
                number=number,
                invoice_date=datetime.date(2024, 9, 9),
                due_date=datetime.date(2024, 9, 23),
                currency=invoice.currency,
                reference=reference_for(invoice.seller.country, f"1{number:07d}"),
                seller_snapshot=invoice.seller_snapshot,
                buyer_snapshot=invoice.buyer_snapshot,
                vat_note=invoice.vat_note,
                net=net,
                vat=vat,
                rounding=rounding,
                total=total,
                issued_at=issued_at,
            )
        )
        note_lines.append(credited)
    for note, lines in zip(Invoice.objects.bulk_create(notes), note_lines, strict=True):
        for line in lines:
            line.invoice = note
    InvoiceLine.objects.bulk_create([line for lines in note_lines for line in lines])
    assert Tenant.objects.count() >= len(buyers)


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else 0.0


def main() -> dict:
    with bench_database():
        from django_scopes import scopes_disabled

        from billing.einvoice import invoice_finvoice, invoice_ubl
        from billing.einvoice.validation import finvoice_errors, ubl_errors, warm_up
        from billing.models import Invoice

        with scopes_disabled():
            # Invoices and every tenth one's credit note: DOCUMENTS documents in all.
            _populate(DOCUMENTS * 10 // 11)
            started = time.perf_counter()
            invoices = list(
                Invoice.objects.defer("pdf")
                .select_related("credited_invoice")
                .defer("credited_invoice__pdf")
                .prefetch_related("lines")
                .order_by("pk")
            )
            read_seconds = time.perf_counter() - started

            started = time.perf_counter()
            warm_up()
            startup = time.perf_counter() - started

            results: dict = {
                "documents": len(invoices),
                "credit_notes": sum(invoice.kind == "credit_note" for invoice in invoices),
                "read_seconds": round(read_seconds, 3),
                "validator_startup_seconds": round(startup, 2),
            }
            for name, generate, validate in (
                ("finvoice", invoice_finvoice, lambda xml: finvoice_errors(xml)),
                ("ubl", invoice_ubl, lambda xml: ubl_errors(xml)[0]),
            ):
                started = time.perf_counter()
                for invoice in invoices:
                    generate(invoice)
                generation = time.perf_counter() - started
                invalid = 0
                started = time.perf_counter()
                for invoice in invoices:
                    invalid += bool(validate(generate(invoice)))
                with_validation = time.perf_counter() - started
                results[f"{name}_generated_per_second"] = _rate(len(invoices), generation)
                results[f"{name}_generated_and_validated_per_second"] = _rate(
                    len(invoices), with_validation
                )
                results[f"{name}_ms_per_document_validation"] = round(
                    (with_validation - generation) / len(invoices) * 1000, 2
                )
                results[f"invalid_{name}"] = invalid
        return results
