"""VAT decision and amounts (DESIGN §3.5).

VAT is decided by the seller's country, the buyer's country and the buyer's VAT status:

- domestic sale (same country) -> the seller country's standard rate valid on the invoice
  date (category S);
- EU seller to a business in another EU member state with a valid VAT number -> 0 %, reverse
  charge, with the legal note (category AE);
- seller to a buyer outside the seller's VAT area (outside the EU for an EU seller, outside
  Norway for a Norwegian seller) -> 0 %, outside the scope of the seller's VAT (category O);
- EU seller to a consumer, or to a business without a valid VAT number, in another member
  state -> the seller country's standard rate (S).

Categories are the EN 16931 / UNCL5305 codes used by Peppol BIS and Finvoice.

VAT rates are data with validity dates (`VAT_RATE_TABLE`), looked up by the invoice date the
caller passes in; nothing here reads the clock.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from stdnum.eu import vat as eu_vat
from stdnum.no import mva as no_mva

from severa.money import quantize, to_decimal

# ISO 3166-1 alpha-2 codes (officially assigned). A buyer country outside this list is a typo
# or a made-up code, and a VAT decision must not be guessed from it.
_ISO_COUNTRY_CODES_TEXT = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
ISO_COUNTRY_CODES: frozenset[str] = frozenset(_ISO_COUNTRY_CODES_TEXT.split())

# EU member states by ISO code (Greece is GR here; only its VAT numbers use the prefix EL).
# Territories with their own ISO code that are outside the EU VAT area (e.g. Åland, AX,
# although part of Finland) are deliberately not listed: sales there are outside the scope.
_EU_MEMBER_STATES_TEXT = """
    AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK
"""
EU_MEMBER_STATES: frozenset[str] = frozenset(_EU_MEMBER_STATES_TEXT.split())

CATEGORY_STANDARD = "S"
CATEGORY_REVERSE_CHARGE = "AE"
CATEGORY_OUTSIDE_SCOPE = "O"
VAT_CATEGORIES: frozenset[str] = frozenset(
    {CATEGORY_STANDARD, CATEGORY_REVERSE_CHARGE, CATEGORY_OUTSIDE_SCOPE}
)

NOTE_REVERSE_CHARGE = "Reverse charge: VAT Directive 2006/112/EC article 196"
NOTE_OUTSIDE_EU_VAT = "Outside the scope of EU VAT"
NOTE_OUTSIDE_NORWEGIAN_VAT = "Outside the scope of Norwegian VAT"
NOTE_OUTSIDE_VAT = "Outside the scope of VAT"

# Each note's stable kind: a document keeps it beside the note, which is rendered in the
# buyer's language when the document is issued (`severa.line_texts.vat_note_text`).
VAT_NOTE_KINDS: dict[str, str] = {
    NOTE_REVERSE_CHARGE: "reverse_charge",
    NOTE_OUTSIDE_EU_VAT: "outside_eu_vat",
    NOTE_OUTSIDE_NORWEGIAN_VAT: "outside_norwegian_vat",
    NOTE_OUTSIDE_VAT: "outside_vat",
}

# CEF VATEX exemption reason codes that Peppol BIS / EN 16931 expect beside categories AE
# and O (BR-AE-10, BR-O-10).
EXEMPTION_REASON_REVERSE_CHARGE = "VATEX-EU-AE"
EXEMPTION_REASON_OUTSIDE_SCOPE = "VATEX-EU-O"


@dataclass(frozen=True, slots=True)
class VatRate:
    """A country's standard VAT rate (in percent) from `valid_from` to `valid_until`, both
    included; `valid_until` None means "until further notice"."""

    country: str
    rate: Decimal
    valid_from: date
    valid_until: date | None = None

    def is_valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


# Standard rates of the countries the vendor's seller entities invoice from. The table starts
# on 2013-01-01 for every country: nothing was invoiced earlier, and a rate this table does
# not know is refused rather than guessed. Add a row (and close the previous one) when a rate
# changes; never edit a closed row, issued invoices were computed from it.
VAT_RATE_TABLE: tuple[VatRate, ...] = (
    VatRate("FI", Decimal("24"), date(2013, 1, 1), date(2024, 8, 31)),
    VatRate("FI", Decimal("25.5"), date(2024, 9, 1)),
    VatRate("SE", Decimal("25"), date(2013, 1, 1)),
    VatRate("NO", Decimal("25"), date(2013, 1, 1)),
    VatRate("DK", Decimal("25"), date(2013, 1, 1)),
)


@dataclass(frozen=True, slots=True)
class VatDecision:
    """How one sale is taxed: EN 16931 category, rate in percent, and the note the invoice
    must print (empty for standard-rated sales)."""

    category: str
    rate: Decimal
    note: str
    exemption_reason_code: str = ""

    @property
    def note_kind(self) -> str:
        """The note's stable kind ("" for none): what a document keeps to write the note in
        its buyer's language."""
        return VAT_NOTE_KINDS.get(self.note, "")


def _country(value: str, name: str) -> str:
    code = value.strip().upper() if isinstance(value, str) else value
    if code not in ISO_COUNTRY_CODES:
        raise ValueError(f"unknown {name} {value!r}: expected an ISO 3166-1 alpha-2 code")
    return code


def standard_rate(country: str, on: date) -> Decimal:
    """The standard VAT rate (percent) of `country` valid on `on`."""
    country = _country(country, "country")
    rows = [row for row in VAT_RATE_TABLE if row.country == country]
    if not rows:
        raise ValueError(f"no VAT rates known for {country}")
    for row in rows:
        if row.is_valid_on(on):
            return row.rate
    first = min(row.valid_from for row in rows)
    raise ValueError(
        f"no VAT rate for {country} on {on.isoformat()}: the table starts {first.isoformat()}"
    )


def vat_decide(
    *,
    seller_country: str,
    buyer_country: str,
    buyer_is_business: bool,
    buyer_vat_number_valid: bool,
    on: date,
) -> VatDecision:
    """Decide the VAT category, rate and note for a sale made (invoiced) on `on`.

    Raises ValueError for an unknown country, a seller country without rates, or a date
    before the rate table starts.
    """
    seller = _country(seller_country, "seller country")
    buyer = _country(buyer_country, "buyer country")
    # Looked up for every decision, so an unknown seller country or a date before the table
    # fails the same way whatever the buyer.
    seller_rate = standard_rate(seller, on)

    if seller == buyer:
        return VatDecision(CATEGORY_STANDARD, seller_rate, "")

    if seller not in EU_MEMBER_STATES:
        # A Norwegian seller's sale to a buyer abroad is outside Norwegian VAT.
        return VatDecision(
            CATEGORY_OUTSIDE_SCOPE,
            Decimal(0),
            NOTE_OUTSIDE_NORWEGIAN_VAT if seller == "NO" else NOTE_OUTSIDE_VAT,
            EXEMPTION_REASON_OUTSIDE_SCOPE,
        )

    if buyer not in EU_MEMBER_STATES:
        return VatDecision(
            CATEGORY_OUTSIDE_SCOPE, Decimal(0), NOTE_OUTSIDE_EU_VAT, EXEMPTION_REASON_OUTSIDE_SCOPE
        )

    if buyer_is_business and buyer_vat_number_valid:
        return VatDecision(
            CATEGORY_REVERSE_CHARGE,
            Decimal(0),
            NOTE_REVERSE_CHARGE,
            EXEMPTION_REASON_REVERSE_CHARGE,
        )

    # EU seller to a consumer, or to a business without a valid VAT number, in another member
    # state: charged at the seller country's rate. Deliberately no OSS handling: strictly,
    # electronic services to consumers in another member state are taxed at the buyer
    # country's rate through the One-Stop Shop; the design does not cover that, so this rule
    # must change (and take the buyer's rate) before such sales are made.
    return VatDecision(CATEGORY_STANDARD, seller_rate, "")


def vat_amount(net: Decimal | int, rate: Decimal | int, currency: str) -> Decimal:
    """VAT on `net` at `rate` percent, rounded half-up to the currency's minor unit."""
    net = to_decimal(net, name="net")
    rate = to_decimal(rate, name="rate")
    return quantize(net * rate / 100, currency)


# Countries whose VAT numbers `vat_number_valid` can check.
VAT_NUMBER_COUNTRIES: frozenset[str] = EU_MEMBER_STATES | {"NO"}

_VAT_NUMBER_SEPARATORS = re.compile(r"[\s.\-/]")


# A pure function of its arguments, asked for every subscription a billing run renews and
# every invoice it issues: a run checks each number once.
@functools.lru_cache(maxsize=65536)
def vat_number_valid(country: str, number: str) -> bool:
    """Whether `number` is a well-formed VAT number of `country` (format and check digits).

    Offline only: no VIES or registry lookup, so a well-formed number of a closed company
    still passes. The country prefix is optional (FI 20774740 or 20774740); a number with
    another country's prefix is invalid. Norway's "MVA" suffix is optional too. Raises
    ValueError for a country whose VAT numbers cannot be checked (see VAT_NUMBER_COUNTRIES).
    """
    country = _country(country, "country")
    if country not in VAT_NUMBER_COUNTRIES:
        raise ValueError(f"VAT numbers of {country} cannot be checked")
    compact = _VAT_NUMBER_SEPARATORS.sub("", number).upper()
    if not compact:
        return False
    if country == "NO":
        if not compact.endswith("MVA"):
            compact += "MVA"
        return no_mva.is_valid(compact)
    # Greek VAT numbers carry EL, not the ISO code GR.
    prefix = "EL" if country == "GR" else country
    if country == "GR" and compact.startswith("GR"):
        compact = "EL" + compact[2:]
    if not compact.startswith(prefix):
        compact = prefix + compact
    return eu_vat.is_valid(compact)


def buyer_vat_decision(
    *,
    seller_country: str,
    buyer_country: str,
    buyer_vat_number: str,
    on: date,
    buyer_is_business: bool = True,
) -> VatDecision:
    """The VAT decision for a buyer as its details stand (§3.5): its VAT number counts only
    when it is well-formed for its country (a country whose numbers cannot be checked counts
    none). Quotes, invoices and the accounting systems' rows all decide here. Raises
    ValueError as ``vat_decide`` does."""
    try:
        valid = bool(buyer_vat_number) and vat_number_valid(buyer_country, buyer_vat_number)
    except ValueError:
        valid = False
    return vat_decide(
        seller_country=seller_country,
        buyer_country=buyer_country,
        buyer_is_business=buyer_is_business,
        buyer_vat_number_valid=valid,
        on=on,
    )
