"""Lines issued before lines kept their kind get it from their English text (the migration
`billing 0015`); a text that is not the product's own stays free text."""

import importlib

import pytest
from django.apps import apps

from billing.models import InvoiceLine
from tests.factories import catalog_create, invoice_create

migration = importlib.import_module("billing.migrations.0015_line_kinds_of_issued_lines")

CATALOG = {
    "editions": {"Business": "business", "Professional": "professional"},
    "add_ons": {"Travel and expenses": "travel-expenses"},
    "interfaces": {"Fortnox": "fortnox"},
}
PROFESSIONAL = {"edition": "Professional", "edition_code": "professional"}
TRAVEL = {"add_on": "Travel and expenses", "add_on_code": "travel-expenses"}
BUSINESS_TO_PROFESSIONAL = {
    "from_edition": "Business",
    "from_edition_code": "business",
    "to_edition": "Professional",
    "to_edition_code": "professional",
}


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Upgrade Business to Professional", ("edition_upgrade", BUSINESS_TO_PROFESSIONAL)),
        ("Edition Business to Professional", ("edition_downgrade", BUSINESS_TO_PROFESSIONAL)),
        ("Professional, additional seats", ("seats_additional", PROFESSIONAL)),
        ("Travel and expenses, additional seats", ("add_on_additional_seats", TRAVEL)),
        ("Professional, seats", ("seats", PROFESSIONAL)),
        ("File storage 100 GB to 500 GB", ("storage_change", {"from_gb": 100, "to_gb": 500})),
        ("File storage 50 GB", ("storage", {"gb": 50})),
        ("Seats 10 to 6", ("seats_decrease", {"from_seats": 10, "to_seats": 6})),
        ("Remove Travel and expenses", ("add_on_removal", TRAVEL)),
        (
            "Remove Travel and expenses (not available in Business)",
            (
                "add_on_removal_not_available",
                TRAVEL | {"edition": "Business", "edition_code": "business"},
            ),
        ),
        (
            "Remove Fortnox",
            ("interface_removal", {"interface": "Fortnox", "interface_code": "fortnox"}),
        ),
        ("Termination of the subscription", ("termination", {})),
        ("Travel and expenses", ("add_on", TRAVEL)),
        ("Fortnox", ("interface", {"interface": "Fortnox", "interface_code": "fortnox"})),
        # Not the product's own texts: free text.
        ("Setup fee", None),
        ("Upgrade Gold to Platinum", None),
        ("Professional seats: 2 more", None),
        ("Remove Unknown thing", None),
    ],
)
def test_an_english_text_gives_its_kind_and_params(description, expected):
    assert migration.line_kind(description, **CATALOG) == expected


@pytest.mark.django_db
def test_the_migration_fills_the_kind_of_issued_lines_and_keeps_their_text(tenant, unscoped):
    catalog_create()
    invoice = invoice_create(tenant)
    InvoiceLine.objects.filter(invoice=invoice).update(text_kind="", params={})

    migration.fill(apps, None)

    line = InvoiceLine.objects.get(invoice=invoice)
    assert (line.description, line.text_kind, line.params) == (
        "Professional, seats",
        "seats",
        PROFESSIONAL,
    )
