"""Quotes and the price book (DESIGN §3.3): pure functions, no database.

Every expected amount is worked out in a comment beside it from the §3.3 formula
`unit price per month × period months × quantity delta × remaining days / days in period`,
rounded half-up per line.
"""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from severa.periods import Period, period_starting
from severa.vat import vat_decide
from subscriptions.pricebook import PriceBook, QuoteError
from subscriptions.prices import AddOnPrice, EditionPrice, InterfacePrice, StorageTierPrice
from subscriptions.quotes import (
    ScheduledChange,
    SubscriptionState,
    TooFewSeatsError,
    decrease_effective_date,
    quote_build,
)

SEED_PERIOD = Period(date(2025, 5, 1), date(2025, 7, 31))  # 92 days
SEED_DAY = date(2025, 6, 5)  # 2025-06-05..2025-07-31 = 57 days
NEXT_PERIOD = Period(date(2025, 8, 1), date(2025, 10, 31))


def _book(*, professional_price: Decimal = Decimal("10.00")) -> PriceBook:
    return PriceBook(
        currency="EUR",
        priced_on=SEED_DAY,
        editions=(
            EditionPrice("professional", "Professional", 1, 10, professional_price),
            EditionPrice("business", "Business", 2, 50, Decimal("16.00")),
            EditionPrice("enterprise", "Enterprise", 3, 100, Decimal("25.00")),
        ),
        add_ons=(
            AddOnPrice(
                "resource-planning", "Resource planning", "per_seat", Decimal("3.00"), "business"
            ),
            AddOnPrice(
                "power-bi",
                "Power BI reporting",
                "flat",
                Decimal("40.00"),
                "business",
                frozenset({"enterprise"}),
            ),
            AddOnPrice("travel-expenses", "Travel and expenses", "per_seat", Decimal("2.00")),
        ),
        interfaces=(
            InterfacePrice("fortnox", "Fortnox", Decimal("20.00")),
            InterfacePrice("visma-net", "Visma.net ERP", Decimal("30.00")),
        ),
        storage_tiers=(
            StorageTierPrice(50, Decimal("8.00")),
            StorageTierPrice(100, Decimal("15.00")),
            StorageTierPrice(500, Decimal("50.00")),
        ),
    )


BOOK = _book()
FI_VAT = vat_decide(
    seller_country="FI",
    buyer_country="FI",
    buyer_is_business=True,
    buyer_vat_number_valid=True,
    on=SEED_DAY,
)
REVERSE_CHARGE = vat_decide(
    seller_country="FI",
    buyer_country="SE",
    buyer_is_business=True,
    buyer_vat_number_valid=True,
    on=SEED_DAY,
)


def _state(**changes: object) -> SubscriptionState:
    base = SubscriptionState(
        edition_code="business",
        seats=5,
        storage_gb=50,
        period_months=3,
        period=SEED_PERIOD,
        currency="EUR",
    )
    return replace(base, **changes)


def _quote(current, desired, *, today=SEED_DAY, active=None, vat=FI_VAT, prices=BOOK):
    return quote_build(
        current=current,
        desired=desired,
        prices=prices,
        today=today,
        active_users_at_next_period=current.seats if active is None else active,
        vat=vat,
    )


def _nets(lines):
    return [
        (line.item_type, line.item_code, line.unit_price, line.quantity, line.net) for line in lines
    ]


# --- The seed example -------------------------------------------------------------------------


def test_seed_example_one_seat_added_on_june_5th_with_finnish_vat():
    # Given a 3-month period 2025-05-01..2025-07-31 at 10.00 per seat per month
    current = _state(edition_code="professional", seats=4, storage_gb=10)

    # When one seat is added on 2025-06-05
    quote = _quote(current, replace(current, seats=5))

    # Then one line covers 2025-06-05..2025-07-31: 10.00 × 3 × 1 × 57 / 92 = 18.5869... -> 18.59,
    # VAT 25.5 %: 4.74045 -> 4.74, total 23.33.
    (line,) = quote.immediate_lines
    assert line.kind == "increase"
    assert (line.item_type, line.item_code) == ("seats", "professional")
    assert line.unit_price == Decimal("10.00")
    assert line.quantity == 1
    assert line.period == Period(date(2025, 6, 5), date(2025, 7, 31))
    assert (line.period.days, SEED_PERIOD.days) == (57, 92)
    assert line.net == Decimal("18.59")
    assert (line.vat_rate, line.vat_category) == (Decimal("25.5"), "S")
    assert line.vat == Decimal("4.74")
    assert line.total == Decimal("23.33")
    assert (quote.immediate_net, quote.immediate_vat, quote.immediate_total) == (
        Decimal("18.59"),
        Decimal("4.74"),
        Decimal("23.33"),
    )
    assert quote.scheduled_changes == ()
    # Next full period 2025-08-01..2025-10-31: 10.00 × 3 × 5 = 150.00 + 38.25 VAT.
    assert quote.next_period == NEXT_PERIOD
    assert _nets(quote.next_period_lines) == [
        ("seats", "professional", Decimal("10.00"), 5, Decimal("150.00"))
    ]
    assert quote.next_period_lines[0].kind == "scheduled"
    assert quote.next_period_lines[0].period == NEXT_PERIOD
    assert quote.next_period_total == Decimal("188.25")


def test_reverse_charge_gives_no_vat():
    current = _state(edition_code="professional", seats=4, storage_gb=10)

    quote = _quote(current, replace(current, seats=5), vat=REVERSE_CHARGE)

    (line,) = quote.immediate_lines
    assert (line.vat_category, line.vat_rate) == ("AE", Decimal("0"))
    assert (line.net, line.vat, line.total) == (Decimal("18.59"), Decimal("0.00"), Decimal("18.59"))
    assert (quote.immediate_vat, quote.immediate_total) == (Decimal("0.00"), Decimal("18.59"))
    assert (quote.next_period_vat, quote.next_period_total) == (Decimal("0.00"), Decimal("150.00"))


# --- Increases ---------------------------------------------------------------------------------


def test_edition_upgrade_mid_period_charges_price_difference_per_seat():
    current = _state(edition_code="professional", seats=5, storage_gb=10)

    quote = _quote(current, replace(current, edition_code="business"))

    # (16.00 - 10.00) × 3 × 5 × 57 / 92 = 5130 / 92 = 55.7608... -> 55.76; VAT 14.2188 -> 14.22
    assert _nets(quote.immediate_lines) == [
        ("edition", "business", Decimal("6.00"), 5, Decimal("55.76"))
    ]
    assert quote.immediate_lines[0].description == "Upgrade Professional to Business"
    assert (quote.immediate_vat, quote.immediate_total) == (Decimal("14.22"), Decimal("69.98"))
    assert quote.scheduled_changes == ()


def test_edition_upgrade_with_more_seats_charges_old_seats_difference_and_new_seats_in_full():
    # Decision pinned: the difference on the 5 seats already paid for, plus the 2 added seats
    # at the new edition's price, so the total is new price × new seats - old × old, pro rata.
    current = _state(edition_code="professional", seats=5, storage_gb=10)

    quote = _quote(current, replace(current, edition_code="business", seats=7))

    assert _nets(quote.immediate_lines) == [
        # 6.00 × 3 × 5 × 57 / 92 = 55.7608... -> 55.76
        ("edition", "business", Decimal("6.00"), 5, Decimal("55.76")),
        # 16.00 × 3 × 2 × 57 / 92 = 5472 / 92 = 59.4782... -> 59.48
        ("seats", "business", Decimal("16.00"), 2, Decimal("59.48")),
    ]
    # (16.00 × 7 - 10.00 × 5) × 3 × 57 / 92 = 10602 / 92 = 115.2391... -> 115.24
    assert quote.immediate_net == Decimal("115.24")


def test_per_seat_add_on_follows_added_seats():
    current = _state(seats=5, add_ons=frozenset({"resource-planning"}))

    quote = _quote(current, replace(current, seats=7))

    assert _nets(quote.immediate_lines) == [
        # 16.00 × 3 × 2 × 57 / 92 -> 59.48
        ("seats", "business", Decimal("16.00"), 2, Decimal("59.48")),
        # 3.00 × 3 × 2 × 57 / 92 = 1026 / 92 = 11.1521... -> 11.15
        ("add_on", "resource-planning", Decimal("3.00"), 2, Decimal("11.15")),
    ]
    assert quote.immediate_lines[1].description == "Resource planning, additional seats"


def test_new_per_seat_add_on_is_charged_for_every_seat_including_added_ones():
    current = _state(seats=5)

    quote = _quote(current, replace(current, seats=6, add_ons=frozenset({"resource-planning"})))

    assert _nets(quote.immediate_lines) == [
        # 16.00 × 3 × 1 × 57 / 92 = 2736 / 92 = 29.7391... -> 29.74
        ("seats", "business", Decimal("16.00"), 1, Decimal("29.74")),
        # 3.00 × 3 × 6 × 57 / 92 = 3078 / 92 = 33.4565... -> 33.46
        ("add_on", "resource-planning", Decimal("3.00"), 6, Decimal("33.46")),
    ]


def test_adding_a_flat_add_on_and_an_interface():
    current = _state()

    quote = _quote(
        current,
        replace(current, add_ons=frozenset({"power-bi"}), interfaces=frozenset({"fortnox"})),
    )

    assert _nets(quote.immediate_lines) == [
        # 40.00 × 3 × 1 × 57 / 92 = 6840 / 92 = 74.3478... -> 74.35
        ("add_on", "power-bi", Decimal("40.00"), 1, Decimal("74.35")),
        # 20.00 × 3 × 1 × 57 / 92 = 3420 / 92 = 37.1739... -> 37.17
        ("interface", "fortnox", Decimal("20.00"), 1, Decimal("37.17")),
    ]
    # VAT on 111.52 at 25.5 % = 28.4376 -> 28.44
    assert (quote.immediate_net, quote.immediate_vat, quote.immediate_total) == (
        Decimal("111.52"),
        Decimal("28.44"),
        Decimal("139.96"),
    )


@pytest.mark.parametrize(
    ("edition", "from_gb", "to_gb", "unit", "net"),
    [
        # Professional includes 10 GB: the 50 GB tier costs 8.00 in full.
        # 8.00 × 3 × 57 / 92 = 1368 / 92 = 14.8695... -> 14.87
        ("professional", 10, 50, Decimal("8.00"), Decimal("14.87")),
        # 50 -> 100 GB: 15.00 - 8.00 = 7.00; × 3 × 57 / 92 = 1197 / 92 = 13.0108... -> 13.01
        ("professional", 50, 100, Decimal("7.00"), Decimal("13.01")),
        # Business includes 50 GB, so its 50 GB costs nothing and 100 GB costs 15.00 in full.
        # 15.00 × 3 × 57 / 92 = 2565 / 92 = 27.8804... -> 27.88
        ("business", 50, 100, Decimal("15.00"), Decimal("27.88")),
    ],
)
def test_storage_tier_increase_charges_the_price_difference(edition, from_gb, to_gb, unit, net):
    current = _state(edition_code=edition, storage_gb=from_gb)

    quote = _quote(current, replace(current, storage_gb=to_gb))

    assert _nets(quote.immediate_lines) == [("storage", f"storage-{to_gb}gb", unit, 1, net)]


def test_storage_within_the_new_editions_base_needs_no_change_on_upgrade():
    # Professional's 10 GB base stays valid on Business (base 50 GB): no storage line.
    current = _state(edition_code="professional", seats=5, storage_gb=10)

    quote = _quote(current, replace(current, edition_code="business"))

    assert [line.item_type for line in quote.immediate_lines] == ["edition"]
    assert [line.item_type for line in quote.next_period_lines] == ["seats"]


def test_included_add_on_costs_nothing():
    current = _state(edition_code="enterprise", storage_gb=100)

    quote = _quote(current, replace(current, add_ons=frozenset({"power-bi"})))

    assert quote.immediate_lines == ()
    assert (quote.immediate_net, quote.immediate_total) == (Decimal("0.00"), Decimal("0.00"))
    # Enterprise 25.00 × 3 × 5 = 375.00; storage within the 100 GB base and Power BI: no line.
    assert _nets(quote.next_period_lines) == [
        ("seats", "enterprise", Decimal("25.00"), 5, Decimal("375.00"))
    ]


def test_upgrade_to_an_edition_that_includes_an_active_add_on_charges_only_the_edition():
    current = _state(add_ons=frozenset({"power-bi"}))

    quote = _quote(current, replace(current, edition_code="enterprise", storage_gb=100))

    # 9.00 × 3 × 5 × 57 / 92 = 7695 / 92 = 83.6413... -> 83.64; no Power BI or storage line
    # (100 GB is Enterprise's base), and nothing credited for the Power BI already paid.
    assert _nets(quote.immediate_lines) == [
        ("edition", "enterprise", Decimal("9.00"), 5, Decimal("83.64"))
    ]
    assert [line.item_code for line in quote.next_period_lines] == ["enterprise"]


@pytest.mark.parametrize(
    ("months", "start", "today", "covered_days", "period_days", "net", "next_period"),
    [
        # 10.00 × 1 × 14 / 28 = 5.00
        (1, date(2025, 2, 1), date(2025, 2, 15), 14, 28, "5.00", ("2025-03-01", "2025-03-31")),
        # Leap February: 10.00 × 1 × 15 / 29 = 5.1724... -> 5.17
        (1, date(2024, 2, 1), date(2024, 2, 15), 15, 29, "5.17", ("2024-03-01", "2024-03-31")),
        # 10.00 × 6 × 91 / 181 = 5460 / 181 = 30.1657... -> 30.17
        (6, date(2025, 1, 1), date(2025, 4, 1), 91, 181, "30.17", ("2025-07-01", "2025-12-31")),
        # Leap year: 10.00 × 12 × 306 / 366 = 36720 / 366 = 100.3278... -> 100.33
        (12, date(2024, 1, 1), date(2024, 3, 1), 306, 366, "100.33", ("2025-01-01", "2025-12-31")),
        # Same day a year later: 36720 / 365 = 100.6027... -> 100.60
        (12, date(2025, 1, 1), date(2025, 3, 1), 306, 365, "100.60", ("2026-01-01", "2026-12-31")),
        # First day: the whole period, 10.00 × 12 = 120.00
        (12, date(2024, 1, 1), date(2024, 1, 1), 366, 366, "120.00", ("2025-01-01", "2025-12-31")),
        # Last day: 120 / 366 = 0.3278... -> 0.33
        (12, date(2024, 1, 1), date(2024, 12, 31), 1, 366, "0.33", ("2025-01-01", "2025-12-31")),
    ],
)
def test_seat_increase_in_1_6_and_12_month_periods(
    months, start, today, covered_days, period_days, net, next_period
):
    period = period_starting(start, months)
    current = _state(
        edition_code="professional", seats=4, storage_gb=10, period_months=months, period=period
    )

    quote = _quote(current, replace(current, seats=5), today=today)

    (line,) = quote.immediate_lines
    assert (line.period.days, period.days) == (covered_days, period_days)
    assert line.net == Decimal(net)
    assert quote.next_period == Period(*map(date.fromisoformat, next_period))
    # Next full period: 10.00 × months × 5 seats.
    assert quote.next_period_net == Decimal(10 * months * 5).quantize(Decimal("0.01"))


# --- Decreases ---------------------------------------------------------------------------------


def test_increase_and_decrease_in_one_quote():
    # Given Business with Fortnox; when seats go 5 -> 7 and Fortnox is removed on 2025-06-05
    current = _state(interfaces=frozenset({"fortnox"}))

    quote = _quote(current, replace(current, seats=7, interfaces=frozenset()))

    # Then the seats are charged now and Fortnox stays paid until the period ends.
    assert _nets(quote.immediate_lines) == [
        ("seats", "business", Decimal("16.00"), 2, Decimal("59.48"))
    ]
    assert quote.scheduled_changes == (
        ScheduledChange(
            "interface",
            "fortnox",
            "Remove Fortnox",
            date(2025, 8, 1),
            "interface_removal",
            {"interface": "Fortnox", "interface_code": "fortnox"},
        ),
    )
    # 16.00 × 3 × 7 = 336.00 + 85.68 VAT, without Fortnox.
    assert _nets(quote.next_period_lines) == [
        ("seats", "business", Decimal("16.00"), 7, Decimal("336.00"))
    ]
    assert quote.next_period_total == Decimal("421.68")


def test_edition_downgrade_with_added_seats_charges_seats_at_the_current_edition():
    # The lower edition only starts next period, so seats added now cost Business's price.
    current = _state()

    quote = _quote(current, replace(current, edition_code="professional", seats=7))

    assert _nets(quote.immediate_lines) == [
        ("seats", "business", Decimal("16.00"), 2, Decimal("59.48"))
    ]
    assert quote.scheduled_changes == (
        ScheduledChange(
            "edition",
            "professional",
            "Edition Business to Professional",
            date(2025, 8, 1),
            "edition_downgrade",
            {
                "from_edition": "Business",
                "from_edition_code": "business",
                "to_edition": "Professional",
                "to_edition_code": "professional",
            },
        ),
    )
    # Professional 10.00 × 3 × 7 = 210.00; 50 GB is a tier above Professional's 10 GB: 24.00.
    assert quote.next_period_net == Decimal("234.00")


def test_decrease_made_on_the_last_day_of_the_period_takes_effect_the_next_day():
    current = _state(seats=7)

    quote = _quote(current, replace(current, seats=5), today=date(2025, 7, 31), active=5)

    assert quote.immediate_lines == ()
    assert quote.immediate_total == Decimal("0.00")
    assert quote.scheduled_changes == (
        ScheduledChange(
            "seats",
            "business",
            "Seats 7 to 5",
            date(2025, 8, 1),
            "seats_decrease",
            {"from_seats": 7, "to_seats": 5},
        ),
    )
    # The next period already has 5 seats: 16.00 × 3 × 5 = 240.00.
    assert quote.next_period_net == Decimal("240.00")


def test_a_quote_the_day_after_the_period_is_refused_until_the_rollover():
    # Made on 2025-08-01 the decrease would apply one period later (2025-11-01, pinned in
    # test_decrease_effective_date); the quote needs the rolled-over period to say so.
    current = _state(seats=7)

    with pytest.raises(QuoteError, match="outside the current period"):
        _quote(current, replace(current, seats=5), today=date(2025, 8, 1), active=5)


@pytest.mark.parametrize(
    ("period", "months", "made_on", "effective"),
    [
        # The help-centre example: period 1.3.2013-31.8.2013, changed on 31.8 -> 1.9.2013.
        ((date(2013, 3, 1), date(2013, 8, 31)), 6, date(2013, 8, 31), date(2013, 9, 1)),
        ((date(2013, 3, 1), date(2013, 8, 31)), 6, date(2013, 9, 1), date(2014, 3, 1)),
        ((date(2025, 5, 1), date(2025, 7, 31)), 3, date(2025, 5, 1), date(2025, 8, 1)),
        ((date(2025, 5, 1), date(2025, 7, 31)), 3, date(2025, 7, 31), date(2025, 8, 1)),
        ((date(2025, 5, 1), date(2025, 7, 31)), 3, date(2025, 8, 1), date(2025, 11, 1)),
        # Two periods late: still only the next deadline counts.
        ((date(2025, 5, 1), date(2025, 7, 31)), 3, date(2025, 11, 1), date(2026, 2, 1)),
        # Month ends: February in a leap year and in a common year.
        ((date(2024, 2, 1), date(2024, 2, 29)), 1, date(2024, 2, 29), date(2024, 3, 1)),
        ((date(2024, 2, 1), date(2024, 2, 29)), 1, date(2024, 3, 1), date(2024, 4, 1)),
        ((date(2025, 2, 1), date(2025, 2, 28)), 1, date(2025, 2, 28), date(2025, 3, 1)),
        ((date(2025, 2, 1), date(2025, 2, 28)), 1, date(2025, 3, 1), date(2025, 4, 1)),
        ((date(2023, 9, 1), date(2024, 2, 29)), 6, date(2024, 2, 29), date(2024, 3, 1)),
        ((date(2023, 9, 1), date(2024, 2, 29)), 6, date(2024, 3, 1), date(2024, 9, 1)),
        # 12-month leap-year period (366 days) and the year boundary.
        ((date(2024, 1, 1), date(2024, 12, 31)), 12, date(2024, 12, 31), date(2025, 1, 1)),
        ((date(2024, 1, 1), date(2024, 12, 31)), 12, date(2025, 1, 1), date(2026, 1, 1)),
    ],
)
def test_decrease_effective_date(period, months, made_on, effective):
    assert (
        decrease_effective_date(period=Period(*period), period_months=months, made_on=made_on)
        == effective
    )


@pytest.mark.parametrize(
    ("agreement_end", "effective"),
    [
        (date(2025, 7, 31), date(2025, 8, 1)),
        # A 12-month partner agreement from 2025-05-01: no decrease before 2026-05-01.
        (date(2026, 4, 30), date(2026, 5, 1)),
        # An agreement ending mid-period: the first period start after it.
        (date(2025, 9, 15), date(2025, 11, 1)),
    ],
)
def test_decrease_waits_for_the_partner_agreement_to_end(agreement_end, effective):
    assert (
        decrease_effective_date(
            period=SEED_PERIOD, period_months=3, made_on=SEED_DAY, agreement_end=agreement_end
        )
        == effective
    )


@pytest.mark.parametrize(
    ("active", "message", "users_to_deactivate"),
    [
        (8, "Deactivate 3 users before reducing seats to 5", 3),
        (6, "Deactivate 1 user before reducing seats to 5", 1),
    ],
)
def test_seats_cannot_be_scheduled_below_active_users(active, message, users_to_deactivate):
    current = _state(seats=8)

    with pytest.raises(TooFewSeatsError) as refused:
        _quote(current, replace(current, seats=5), active=active)

    assert str(refused.value) == message
    assert refused.value.users_to_deactivate == users_to_deactivate
    assert isinstance(refused.value, QuoteError)


def test_seats_can_be_scheduled_down_to_exactly_the_active_users():
    current = _state(seats=8)

    quote = _quote(current, replace(current, seats=5), active=5)

    assert [change.what for change in quote.scheduled_changes] == ["seats"]


def test_downgrade_names_and_removes_the_add_ons_the_lower_edition_does_not_allow():
    # Given Business with Resource planning (needs Business), Travel and expenses and Fortnox
    current = _state(
        add_ons=frozenset({"resource-planning", "travel-expenses"}),
        interfaces=frozenset({"fortnox"}),
    )

    # When the form asks for Professional and still lists both add-ons
    quote = _quote(current, replace(current, edition_code="professional"))

    # Then Resource planning is named and scheduled for removal with the edition
    assert quote.removed_add_ons == ("resource-planning",)
    assert quote.desired.add_ons == frozenset({"travel-expenses"})
    assert quote.immediate_lines == ()
    assert quote.scheduled_changes == (
        ScheduledChange(
            "edition",
            "professional",
            "Edition Business to Professional",
            date(2025, 8, 1),
            "edition_downgrade",
            {
                "from_edition": "Business",
                "from_edition_code": "business",
                "to_edition": "Professional",
                "to_edition_code": "professional",
            },
        ),
        ScheduledChange(
            "add_on",
            "resource-planning",
            "Remove Resource planning (not available in Professional)",
            date(2025, 8, 1),
            "add_on_removal_not_available",
            {
                "add_on": "Resource planning",
                "add_on_code": "resource-planning",
                "edition": "Professional",
                "edition_code": "professional",
            },
        ),
    )
    assert _nets(quote.next_period_lines) == [
        ("seats", "professional", Decimal("10.00"), 5, Decimal("150.00")),
        ("storage", "storage-50gb", Decimal("8.00"), 1, Decimal("24.00")),
        ("add_on", "travel-expenses", Decimal("2.00"), 5, Decimal("30.00")),
        ("interface", "fortnox", Decimal("20.00"), 1, Decimal("60.00")),
    ]
    # 264.00 + 25.5 % VAT 67.32
    assert (quote.next_period_net, quote.next_period_total) == (
        Decimal("264.00"),
        Decimal("331.32"),
    )


@pytest.mark.parametrize("current_edition", ["professional", "business"])
def test_adding_an_add_on_the_desired_edition_does_not_allow_is_refused(current_edition):
    current = _state(edition_code=current_edition)
    desired = replace(
        current, edition_code="professional", add_ons=frozenset({"resource-planning"})
    )

    with pytest.raises(QuoteError, match="^Resource planning is not available in the Professional"):
        _quote(current, desired)


# --- The next full period and totals -----------------------------------------------------------


def test_next_full_period_price_and_vat_on_the_total():
    current = _state(seats=7, storage_gb=100, add_ons=frozenset({"resource-planning", "power-bi"}))

    quote = _quote(current, replace(current, interfaces=frozenset({"fortnox"})))

    assert quote.next_period == NEXT_PERIOD
    assert _nets(quote.next_period_lines) == [
        ("seats", "business", Decimal("16.00"), 7, Decimal("336.00")),  # 16 × 3 × 7
        ("storage", "storage-100gb", Decimal("15.00"), 1, Decimal("45.00")),  # 15 × 3
        ("add_on", "power-bi", Decimal("40.00"), 1, Decimal("120.00")),  # 40 × 3
        ("add_on", "resource-planning", Decimal("3.00"), 7, Decimal("63.00")),  # 3 × 3 × 7
        ("interface", "fortnox", Decimal("20.00"), 1, Decimal("60.00")),  # 20 × 3
    ]
    # Line VAT: 85.68 + 11.475->11.48 + 30.60 + 16.065->16.07 + 15.30 = 159.13, but the total's
    # VAT is computed on the net total as the invoice must (EN 16931): 624.00 × 25.5 % = 159.12.
    assert sum(line.vat for line in quote.next_period_lines) == Decimal("159.13")
    assert (quote.next_period_net, quote.next_period_vat, quote.next_period_total) == (
        Decimal("624.00"),
        Decimal("159.12"),
        Decimal("783.12"),
    )


# --- Refusals ----------------------------------------------------------------------------------


def test_nothing_to_change():
    with pytest.raises(QuoteError, match="^Nothing to change$"):
        _quote(_state(), _state())


@pytest.mark.parametrize(
    ("desired_changes", "message"),
    [
        ({"edition_code": "platinum"}, "Unknown edition 'platinum'"),
        ({"add_ons": frozenset({"chat"})}, "Unknown add-on 'chat'"),
        ({"interfaces": frozenset({"sap"})}, "Unknown interface 'sap'"),
        ({"storage_gb": 60}, "60 GB is neither a storage tier nor within the storage included"),
        ({"currency": "SEK"}, "Currency cannot change"),
        (
            {"period_months": 1, "period": Period(date(2025, 5, 1), date(2025, 5, 31))},
            "The billing period cannot be changed",
        ),
    ],
)
def test_invalid_desired_states_are_refused(desired_changes, message):
    current = _state()

    with pytest.raises(QuoteError, match=message):
        _quote(current, replace(current, **desired_changes))


def test_state_refuses_a_period_of_the_wrong_length():
    with pytest.raises(ValueError, match="is not a 1-month period"):
        _state(period_months=1)


# --- Price book --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("add_on", "edition", "allowed", "included"),
    [
        ("resource-planning", "professional", False, False),
        ("resource-planning", "business", True, False),
        ("resource-planning", "enterprise", True, False),
        ("power-bi", "business", True, False),
        ("power-bi", "enterprise", True, True),
        ("travel-expenses", "professional", True, False),
    ],
)
def test_add_on_allowed_and_included(add_on, edition, allowed, included):
    assert BOOK.add_on_allowed(add_on=add_on, edition=edition) is allowed
    assert BOOK.add_on_included(add_on=add_on, edition=edition) is included


SELECTION = {
    "edition": "business",
    "seats": 5,
    "storage_gb": 100,
    "add_ons": {"resource-planning"},
    "interfaces": {"fortnox"},
}


@pytest.mark.parametrize(
    ("changes", "field", "code", "message"),
    [
        (
            {"edition": "platinum"},
            "edition",
            "unknown_edition",
            "Unknown edition 'platinum': not in the EUR price list of 2025-06-05",
        ),
        (
            {"add_ons": {"chat"}},
            "add_ons",
            "unknown_add_on",
            "Unknown add-on 'chat': not in the EUR price list of 2025-06-05",
        ),
        (
            {"edition": "professional"},
            "add_ons",
            "add_on_not_in_edition",
            "Resource planning is not available in the Professional edition",
        ),
        (
            {"interfaces": {"sap"}},
            "interfaces",
            "unknown_interface",
            "Unknown interface 'sap': not in the EUR price list of 2025-06-05",
        ),
        (
            {"storage_gb": 60},
            "storage_gb",
            "storage_not_allowed",
            "60 GB is neither a storage tier nor within the storage included in the Business "
            "edition",
        ),
        ({"seats": 0}, "seats", "seats_out_of_range", "The number of seats is from 1 to 100000"),
        (
            {"seats": 100_001},
            "seats",
            "seats_out_of_range",
            "The number of seats is from 1 to 100000",
        ),
    ],
)
def test_what_may_be_sold_is_refused_per_field(changes, field, code, message):
    selection = SELECTION | changes

    refusals = BOOK.selection_refusals(**selection)

    assert [(name, [(e.code, str(e)) for e in errors]) for name, errors in refusals.items()] == [
        (field, [(code, message)])
    ]
    with pytest.raises(QuoteError, match=f"^{message}$"):
        BOOK.check_selection(**selection)


def test_a_sold_selection_is_accepted():
    assert BOOK.selection_refusals(**SELECTION) == {}
    assert BOOK.check_selection(**SELECTION | {"seats": 100_000, "storage_gb": 20}) is None
    # No storage is the edition's included base; no seats are not checked.
    assert BOOK.selection_refusals(**SELECTION | {"storage_gb": None, "seats": None}) == {}


def test_an_add_on_already_active_is_not_refused_on_a_lower_edition():
    lower = SELECTION | {"edition": "professional"}

    assert BOOK.selection_refusals(**lower, added_add_ons=()) == {}
    assert list(BOOK.selection_refusals(**lower, added_add_ons={"resource-planning"})) == [
        "add_ons"
    ]


def test_every_refusal_of_a_selection_is_named_and_the_first_is_raised():
    selection = {
        "edition": "professional",
        "seats": 0,
        "storage_gb": 60,
        "add_ons": {"resource-planning", "power-bi"},
        "interfaces": {"sap"},
    }

    refusals = BOOK.selection_refusals(**selection)

    assert {name: [e.code for e in errors] for name, errors in refusals.items()} == {
        "interfaces": ["unknown_interface"],
        "storage_gb": ["storage_not_allowed"],
        "add_ons": ["add_on_not_in_edition", "add_on_not_in_edition"],
        "seats": ["seats_out_of_range"],
    }
    with pytest.raises(QuoteError, match="^Unknown interface 'sap'"):
        BOOK.check_selection(**selection)


def test_storage_sizes_and_the_size_a_choice_asks_for():
    assert BOOK.storage_sizes(edition="professional") == (10, 50, 100, 500)
    assert BOOK.storage_sizes(edition="business") == (50, 100, 500)
    # Choosing the base keeps a smaller size the base covers too: no change.
    assert BOOK.storage_asked(chosen=50, planned=10, edition="business") == 10
    assert BOOK.storage_asked(chosen=100, planned=10, edition="business") == 100
    assert BOOK.storage_asked(chosen=50, planned=100, edition="business") == 50


def test_price_book_lookups():
    assert [BOOK.edition_rank(code) for code in ("professional", "business", "enterprise")] == [
        1,
        2,
        3,
    ]
    assert BOOK.edition_price_per_seat("business") == Decimal("16.00")
    assert BOOK.add_on_price("resource-planning") == Decimal("3.00")
    assert BOOK.interface_price("visma-net") == Decimal("30.00")
    assert BOOK.storage_price(gigabytes=50, edition="professional") == Decimal("8.00")
    assert BOOK.storage_price(gigabytes=50, edition="business") == Decimal(0)
    with pytest.raises(QuoteError, match="Unknown storage tier '60 GB'"):
        BOOK.storage_tier(60)


def test_price_book_refuses_inconsistent_data():
    with pytest.raises(ValueError, match="distinct ranks"):
        PriceBook(
            currency="EUR",
            priced_on=SEED_DAY,
            editions=(
                EditionPrice("a", "A", 1, 10, Decimal("1.00")),
                EditionPrice("b", "B", 1, 10, Decimal("2.00")),
            ),
        )
    with pytest.raises(TypeError):
        EditionPrice("a", "A", 1, 10, 9.99)  # type: ignore[arg-type]


# --- Property ----------------------------------------------------------------------------------


@given(
    month_index=st.integers(min_value=2000 * 12, max_value=2099 * 12 + 11),
    months=st.sampled_from([1, 3, 6, 12]),
    day_offset=st.integers(min_value=0, max_value=365),
    added_seats=st.integers(min_value=1, max_value=50),
    price_cents=st.integers(min_value=0, max_value=99_999),
)
def test_immediate_charge_is_between_zero_and_the_full_period_charge(
    month_index, months, day_offset, added_seats, price_cents
):
    period = period_starting(date(month_index // 12, month_index % 12 + 1, 1), months)
    today = period.start + timedelta(days=day_offset % period.days)
    price = Decimal(price_cents).scaleb(-2)
    current = _state(
        edition_code="professional", seats=3, storage_gb=10, period_months=months, period=period
    )

    quote = _quote(
        current,
        replace(current, seats=3 + added_seats),
        today=today,
        prices=_book(professional_price=price),
    )

    full_period = price * months * added_seats
    assert Decimal(0) <= quote.immediate_net <= full_period
    if today == period.start:
        assert quote.immediate_net == full_period
