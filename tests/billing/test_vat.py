from datetime import date
from decimal import Decimal

import pytest

from severa.vat import (
    EU_MEMBER_STATES,
    NOTE_OUTSIDE_EU_VAT,
    NOTE_OUTSIDE_NORWEGIAN_VAT,
    NOTE_REVERSE_CHARGE,
    VAT_RATE_TABLE,
    VatDecision,
    buyer_vat_decision,
    standard_rate,
    vat_amount,
    vat_decide,
    vat_number_valid,
)

REVERSE_CHARGE = VatDecision("AE", Decimal("0"), NOTE_REVERSE_CHARGE, "VATEX-EU-AE")
OUTSIDE_EU = VatDecision("O", Decimal("0"), NOTE_OUTSIDE_EU_VAT, "VATEX-EU-O")
OUTSIDE_NORWAY = VatDecision("O", Decimal("0"), NOTE_OUTSIDE_NORWEGIAN_VAT, "VATEX-EU-O")


def test_notes_are_the_legal_wording():
    assert NOTE_REVERSE_CHARGE == "Reverse charge: VAT Directive 2006/112/EC article 196"
    assert NOTE_OUTSIDE_EU_VAT == "Outside the scope of EU VAT"


def test_eu_has_27_member_states_and_not_norway():
    assert len(EU_MEMBER_STATES) == 27
    assert {"FI", "SE", "DK", "GR"} <= EU_MEMBER_STATES
    assert not {"NO", "GB", "CH", "IS", "AX", "EL"} & EU_MEMBER_STATES


@pytest.mark.parametrize(
    ("country", "on", "rate"),
    [
        ("FI", date(2013, 1, 1), Decimal("24")),
        ("FI", date(2024, 8, 31), Decimal("24")),
        ("FI", date(2024, 9, 1), Decimal("25.5")),
        ("FI", date(2025, 6, 5), Decimal("25.5")),
        ("SE", date(2025, 6, 5), Decimal("25")),
        ("NO", date(2025, 6, 5), Decimal("25")),
        ("DK", date(2025, 6, 5), Decimal("25")),
    ],
)
def test_standard_rate_by_date(country, on, rate):
    assert standard_rate(country, on) == rate


def test_rate_table_has_no_overlaps_or_gaps():
    for country in {row.country for row in VAT_RATE_TABLE}:
        rows = sorted(
            (row for row in VAT_RATE_TABLE if row.country == country),
            key=lambda row: row.valid_from,
        )
        for earlier, later in zip(rows, rows[1:], strict=False):
            assert earlier.valid_until is not None
            assert (later.valid_from - earlier.valid_until).days == 1
        assert rows[-1].valid_until is None


@pytest.mark.parametrize(
    ("seller", "buyer", "is_business", "vat_number_valid", "on", "expected"),
    [
        # domestic: the seller country's rate on that date, business or not
        ("FI", "FI", True, True, date(2024, 8, 31), VatDecision("S", Decimal("24"), "")),
        ("FI", "FI", True, True, date(2024, 9, 1), VatDecision("S", Decimal("25.5"), "")),
        ("FI", "FI", False, False, date(2025, 6, 5), VatDecision("S", Decimal("25.5"), "")),
        ("SE", "SE", True, True, date(2025, 6, 5), VatDecision("S", Decimal("25"), "")),
        ("DK", "DK", True, False, date(2025, 6, 5), VatDecision("S", Decimal("25"), "")),
        ("NO", "NO", True, True, date(2025, 6, 5), VatDecision("S", Decimal("25"), "")),
        # EU seller, business with a valid VAT number in another member state: reverse charge
        ("FI", "SE", True, True, date(2025, 6, 5), REVERSE_CHARGE),
        ("SE", "FI", True, True, date(2025, 6, 5), REVERSE_CHARGE),
        ("DK", "DE", True, True, date(2025, 6, 5), REVERSE_CHARGE),
        ("FI", "GR", True, True, date(2025, 6, 5), REVERSE_CHARGE),
        # EU seller, consumer or no valid VAT number: seller's rate (no OSS handling)
        ("FI", "SE", False, False, date(2025, 6, 5), VatDecision("S", Decimal("25.5"), "")),
        ("FI", "SE", True, False, date(2025, 6, 5), VatDecision("S", Decimal("25.5"), "")),
        ("FI", "SE", False, True, date(2025, 6, 5), VatDecision("S", Decimal("25.5"), "")),
        ("FI", "DE", True, False, date(2024, 1, 15), VatDecision("S", Decimal("24"), "")),
        ("SE", "DK", False, False, date(2025, 6, 5), VatDecision("S", Decimal("25"), "")),
        # EU seller, buyer outside the EU: outside the scope of EU VAT
        ("FI", "NO", True, True, date(2025, 6, 5), OUTSIDE_EU),
        ("FI", "NO", False, False, date(2025, 6, 5), OUTSIDE_EU),
        ("SE", "GB", True, True, date(2025, 6, 5), OUTSIDE_EU),
        ("DK", "US", True, False, date(2025, 6, 5), OUTSIDE_EU),
        ("FI", "AX", True, True, date(2025, 6, 5), OUTSIDE_EU),  # Åland: outside EU VAT area
        # Norwegian seller, buyer abroad: outside Norwegian VAT
        ("NO", "SE", True, True, date(2025, 6, 5), OUTSIDE_NORWAY),
        ("NO", "FI", False, False, date(2025, 6, 5), OUTSIDE_NORWAY),
        ("NO", "US", True, True, date(2025, 6, 5), OUTSIDE_NORWAY),
    ],
)
def test_vat_decide(seller, buyer, is_business, vat_number_valid, on, expected):
    decision = vat_decide(
        seller_country=seller,
        buyer_country=buyer,
        buyer_is_business=is_business,
        buyer_vat_number_valid=vat_number_valid,
        on=on,
    )

    assert decision == expected


def test_vat_decide_accepts_lower_case_codes():
    decision = vat_decide(
        seller_country="fi",
        buyer_country=" se ",
        buyer_is_business=True,
        buyer_vat_number_valid=True,
        on=date(2025, 6, 5),
    )

    assert decision.category == "AE"


@pytest.mark.parametrize(
    ("seller", "buyer", "message"),
    [
        ("XX", "FI", "unknown seller country"),
        ("FI", "XX", "unknown buyer country"),
        ("FI", "EL", "unknown buyer country"),  # EL is Greece's VAT prefix, not a country code
        ("FI", "", "unknown buyer country"),
        ("DE", "DE", "no VAT rates known for DE"),  # a seller country without rates
    ],
)
def test_vat_decide_refuses_unknown_countries(seller, buyer, message):
    with pytest.raises(ValueError, match=message):
        vat_decide(
            seller_country=seller,
            buyer_country=buyer,
            buyer_is_business=True,
            buyer_vat_number_valid=True,
            on=date(2025, 6, 5),
        )


@pytest.mark.parametrize("buyer", ["FI", "SE", "NO"])
def test_vat_decide_refuses_date_before_rate_table(buyer):
    with pytest.raises(ValueError, match="the table starts 2013-01-01"):
        vat_decide(
            seller_country="FI",
            buyer_country=buyer,
            buyer_is_business=True,
            buyer_vat_number_valid=True,
            on=date(2012, 12, 31),
        )


@pytest.mark.parametrize(
    ("net", "rate", "currency", "expected"),
    [
        (Decimal("18.59"), Decimal("25.5"), "EUR", Decimal("4.74")),  # 4.74045
        (Decimal("18.59"), Decimal("24"), "EUR", Decimal("4.46")),  # 4.4616
        (Decimal("100.00"), Decimal("25"), "SEK", Decimal("25.00")),
        (Decimal("0.02"), Decimal("25"), "NOK", Decimal("0.01")),  # 0.005 rounds up
        (Decimal("-0.02"), Decimal("25"), "NOK", Decimal("-0.01")),  # credit mirrors
        (Decimal("92.93"), Decimal("0"), "DKK", Decimal("0.00")),
        (Decimal("1.98"), Decimal("25.5"), "EUR", Decimal("0.50")),  # 0.5049
        (Decimal("1.96"), Decimal("25.5"), "EUR", Decimal("0.50")),  # 0.4998
    ],
)
def test_vat_amount(net, rate, currency, expected):
    assert vat_amount(net, rate, currency) == expected


def test_vat_amount_refuses_float():
    with pytest.raises(TypeError, match="float"):
        vat_amount(Decimal("10"), 25.5, "EUR")


@pytest.mark.parametrize(
    ("country", "number", "expected"),
    [
        ("FI", "FI 20774740", True),
        ("FI", "20774740", True),  # prefix optional
        ("FI", "2077474-0", True),  # business id form
        ("FI", "FI 20774741", False),  # wrong check digit
        ("FI", "SE 123456789701", False),  # another country's number
        ("SE", "SE 123456789701", True),
        ("SE", "123456789101", False),
        ("DK", "DK 13585628", True),
        ("DK", "DK 13585627", False),
        ("DE", "DE136695976", True),
        ("GR", "EL 094259216", True),
        ("GR", "094259216", True),
        ("GR", "GR094259216", True),
        ("NO", "NO 995 525 828 MVA", True),
        ("NO", "995525828", True),  # MVA suffix optional
        ("NO", "NO 995 525 829 MVA", False),
        ("NO", "", False),
        ("fi", "fi20774740", True),
    ],
)
def test_vat_number_valid(country, number, expected):
    assert vat_number_valid(country, number) is expected


@pytest.mark.parametrize(("country", "message"), [("US", "cannot be checked"), ("XX", "unknown")])
def test_vat_number_valid_refuses_unsupported_country(country, message):
    with pytest.raises(ValueError, match=message):
        vat_number_valid(country, "123")


@pytest.mark.parametrize(
    ("buyer", "number", "is_business", "expected"),
    [
        # A well-formed Swedish number: reverse charge.
        ("SE", "SE556036079301", True, REVERSE_CHARGE),
        # A Swedish number with a wrong check digit counts as none: Finnish VAT.
        ("SE", "SE556036079302", True, VatDecision("S", Decimal("25.5"), "", "")),
        # No number: Finnish VAT.
        ("SE", "", True, VatDecision("S", Decimal("25.5"), "", "")),
        # A consumer's number never gives reverse charge.
        ("SE", "SE556036079301", False, VatDecision("S", Decimal("25.5"), "", "")),
        # A country whose numbers cannot be checked counts none; outside the EU anyway.
        ("US", "12-3456789", True, OUTSIDE_EU),
    ],
)
def test_buyer_vat_decision_counts_a_number_only_when_well_formed(
    buyer, number, is_business, expected
):
    decision = buyer_vat_decision(
        seller_country="FI",
        buyer_country=buyer,
        buyer_vat_number=number,
        buyer_is_business=is_business,
        on=date(2025, 6, 1),
    )
    assert decision == expected

