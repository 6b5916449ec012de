"""The identifier checks of billing details: pure functions, no database."""

import csv

import pytest
from stdnum import bic

from severa.identifiers import (
    PEPPOL_SCHEMES,
    IdentifierError,
    Reason,
    business_id_clean,
    einvoice_address_clean,
    einvoice_operator_clean,
    einvoice_operators,
    peppol_id_clean,
    postal_code_clean,
    vat_number_clean,
    vat_number_expected,
)
from severa.identifiers.einvoice import OPERATORS_CSV


def _refusal(check, *args) -> IdentifierError:
    with pytest.raises(IdentifierError) as caught:
        check(*args)
    return caught.value


# VAT numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "typed", "stored"),
    [
        ("FI", "FI12345671", "FI12345671"),
        ("FI", "FI 1572 8600", "FI15728600"),
        ("FI", "15728600", "FI15728600"),
        ("FI", "fi1572860-0", "FI15728600"),
        ("SE", "SE556036079301", "SE556036079301"),
        ("SE", "556036-0793 01", "SE556036079301"),
        ("NO", "NO974760673MVA", "NO974760673MVA"),
        ("NO", "974 760 673", "NO974760673MVA"),
        ("NO", "NO 974760673 MVA", "NO974760673MVA"),
        ("DK", "DK13585628", "DK13585628"),
        ("DK", "DK 13 58 56 28", "DK13585628"),
        ("DE", "DE136695976", "DE136695976"),
        ("GR", "EL094259216", "EL094259216"),
        # A country whose numbers cannot be checked offline: kept as typed, compacted.
        ("CH", "CHE-123.456.788 MWST", "CHE123456788MWST"),
        ("FI", "", ""),
        ("FI", "   ", ""),
    ],
)
def test_valid_vat_numbers_are_stored_compact_with_their_prefix(country, typed, stored):
    assert vat_number_clean(country, typed) == stored


@pytest.mark.parametrize(
    ("country", "typed", "reason", "words"),
    [
        ("FI", "FI12345678", Reason.CHECKSUM, "Invalid checksum: the check digit of FI12345678"),
        ("FI", "FI1234567", Reason.LENGTH, "Invalid length: FI1234567 has 7 digits instead of 8"),
        ("FI", "FI1234567X", Reason.FORMAT, "Invalid format: FI1234567X has characters"),
        ("SE", "SE55603607930", Reason.LENGTH, "Invalid length: SE55603607930 has 11 digits"),
        ("SE", "SE556036079302", Reason.FORMAT, "does not end in 01"),
        ("SE", "SE556036079401", Reason.CHECKSUM, "Invalid checksum"),
        ("NO", "NO974760674MVA", Reason.CHECKSUM, "Invalid checksum: the check digit of NO97"),
        ("NO", "NO97476067MVA", Reason.LENGTH, "has 8 digits instead of 9"),
        ("DK", "DK13585629", Reason.CHECKSUM, "Invalid checksum: the check digit of DK13585629"),
        ("DK", "DK1358562", Reason.LENGTH, "has 7 digits instead of 8"),
        ("DE", "DE136695977", Reason.CHECKSUM, "Invalid checksum"),
    ],
)
def test_invalid_vat_numbers_are_refused_with_the_reason(country, typed, reason, words):
    error = _refusal(vat_number_clean, country, typed)
    assert error.reason == reason
    assert words in error.message


def test_a_vat_number_refusal_shows_the_expected_shape():
    error = _refusal(vat_number_clean, "SE", "SE55603607930")
    assert error.message == (
        "Invalid length: SE55603607930 has 11 digits instead of 12. A Swedish VAT number is SE "
        "and 12 digits ending in 01, e.g. SE556036079301."
    )


@pytest.mark.parametrize(
    ("country", "typed"),
    [("FI", "SE556036079301"), ("SE", "FI15728600"), ("NO", "DK13585628"), ("DK", "NO974760673")],
)
def test_a_vat_number_with_another_countrys_prefix_is_refused(country, typed):
    error = _refusal(vat_number_clean, country, typed)
    assert error.reason == Reason.COUNTRY
    assert error.message.startswith(f"Wrong country: {typed} starts with {typed[:2]}")


@pytest.mark.parametrize(
    ("country", "business_id", "expected"),
    [
        ("FI", "1572860-0", "FI15728600"),
        ("SE", "5560360793", "SE556036079301"),
        ("NO", "974760673", "NO974760673MVA"),
        ("DK", "13585628", None),
        ("FI", "", None),
    ],
)
def test_the_vat_number_that_belongs_to_a_business_id(country, business_id, expected):
    assert vat_number_expected(country, business_id) == expected


# Business ids and postal codes ----------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "typed", "stored"),
    [
        ("FI", "1572860-0", "1572860-0"),
        ("FI", "15728600", "1572860-0"),
        ("FI", " 1572860-0 ", "1572860-0"),
        ("SE", "556036-0793", "5560360793"),
        ("SE", "5560360793", "5560360793"),
        ("NO", "974 760 673", "974760673"),
        ("DK", "DK13585628", "13585628"),
        ("DE", " HRB 12345 ", "HRB 12345"),
        ("FI", "", ""),
    ],
)
def test_valid_business_ids_are_stored_in_the_registry_form(country, typed, stored):
    assert business_id_clean(country, typed) == stored


@pytest.mark.parametrize(
    ("country", "typed", "reason"),
    [
        ("FI", "1572860-1", Reason.CHECKSUM),
        ("FI", "157286-0", Reason.LENGTH),
        ("FI", "1572860-X", Reason.FORMAT),
        ("SE", "556036-0794", Reason.CHECKSUM),
        ("SE", "556036-079", Reason.LENGTH),
        ("NO", "974760674", Reason.CHECKSUM),
        ("NO", "97476067", Reason.LENGTH),
        ("DK", "13585629", Reason.CHECKSUM),
        ("DK", "135856280", Reason.LENGTH),
    ],
)
def test_invalid_business_ids_are_refused_per_country(country, typed, reason):
    error = _refusal(business_id_clean, country, typed)
    assert error.reason == reason


def test_a_finnish_business_id_refusal_explains_the_form():
    assert _refusal(business_id_clean, "FI", "1572860-1").message == (
        "Invalid checksum: the check digit of 1572860-1 does not match its other digits: look "
        "for a typo. A Finnish business id (Y-tunnus) is 7 digits, a hyphen and a check digit, "
        "e.g. 1572860-0."
    )


@pytest.mark.parametrize(
    ("country", "typed", "stored"),
    [
        ("FI", "00100", "00100"),
        ("SE", "11151", "111 51"),
        ("SE", "111 51", "111 51"),
        ("NO", "5003", "5003"),
        ("DK", "2100", "2100"),
        ("GB", " SW1A  1AA ", "SW1A 1AA"),
    ],
)
def test_postal_codes(country, typed, stored):
    assert postal_code_clean(country, typed) == stored


@pytest.mark.parametrize(
    ("country", "typed", "reason"),
    [
        ("FI", "0010", Reason.LENGTH),
        ("NO", "50031", Reason.LENGTH),
        ("FI", "FI-00100", Reason.FORMAT),
    ],
)
def test_invalid_postal_codes(country, typed, reason):
    assert _refusal(postal_code_clean, country, typed).reason == reason


# eInvoice addresses and operators -------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("003715728600", "003715728600"),
        ("0037 1572 8600", "003715728600"),
        ("0037157286001", "0037157286001"),
        ("00371572860012345", "00371572860012345"),
        ("003715728600ab", "003715728600AB"),
        ("FI21 1234 5600 0007 85", "FI2112345600000785"),
        ("", ""),
    ],
)
def test_valid_einvoice_addresses(typed, stored):
    assert einvoice_address_clean(typed) == stored


@pytest.mark.parametrize(
    ("typed", "reason", "words"),
    [
        ("003712345678", Reason.CHECKSUM, "the business id in 003712345678 (1234567-8)"),
        ("0037157286", Reason.LENGTH, "0037157286 has 10 characters; an OVT code has 12 to 17"),
        ("003715728600123456", Reason.LENGTH, "has 18 characters"),
        ("00371572860X", Reason.FORMAT, "do not belong in an OVT code"),
        ("FI2112345600000786", Reason.CHECKSUM, "the check digits of IBAN FI2112345600000786"),
        ("12345678", Reason.FORMAT, "12345678 is neither an OVT code nor an IBAN"),
    ],
)
def test_invalid_einvoice_addresses(typed, reason, words):
    error = _refusal(einvoice_address_clean, typed)
    assert error.reason == reason
    assert words in error.message


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("NDEAFIHH", "NDEAFIHH"), ("ndeafihh", "NDEAFIHH"), ("0037 2332 7487", "003723327487")],
)
def test_known_einvoice_operators_are_accepted(typed, stored):
    assert einvoice_operator_clean(typed) == stored


@pytest.mark.parametrize("typed", ["003799999999", "DEUTDEFF"])
def test_an_unknown_operator_is_refused_with_how_to_find_the_right_one(typed):
    error = _refusal(einvoice_operator_clean, typed)
    assert error.reason == Reason.UNKNOWN
    assert error.message.startswith(f"Unknown eInvoice operator: {typed} is not on our list")
    assert "verkkolaskuosoite.fi" in error.message
    assert "e-invoicing details your bank or eInvoice operator gave you" in error.message


def test_an_operator_id_of_no_known_shape_is_a_format_error():
    error = _refusal(einvoice_operator_clean, "my bank")
    assert error.reason == Reason.FORMAT
    assert "MYBANK is neither a BIC nor an operator code" in error.message


def test_the_operator_list_is_clean_data():
    with OPERATORS_CSV.open(newline="", encoding="utf-8") as data:
        rows = list(csv.DictReader(data))
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == len(einvoice_operators())
    for row in rows:
        assert row["name"].strip()
        assert row["id"] == row["id"].strip().upper()
        assert row["id"].isalnum()
    for bank in ("NDEAFIHH", "OKOYFIHH", "DABAFIHH", "HANDFIHH", "SBANFIHH", "AABAFI22"):
        assert bic.is_valid(bank)
        assert bank in einvoice_operators()
    assert einvoice_operators()["003723327487"] == "Apix Messaging Oy"


# Peppol ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0216:003715728600", "0216:003715728600"),
        ("0037:1572860-0", "0037:15728600"),
        ("0007:556036-0793", "0007:5560360793"),
        ("0192:974760673", "0192:974760673"),
        ("0184:DK13585628", "0184:13585628"),
        ("0088:7350053850019", "0088:7350053850019"),
        ("iso6523-actorid-upqp::0192:974760673", "0192:974760673"),
        ("", ""),
    ],
)
def test_valid_peppol_ids(typed, stored):
    assert peppol_id_clean(typed) == stored


@pytest.mark.parametrize(
    ("typed", "reason", "words"),
    [
        ("003715728600", Reason.FORMAT, "003715728600 has no scheme code"),
        ("0216:", Reason.FORMAT, "has no identifier after the scheme"),
        ("9908:974760673", Reason.UNKNOWN, "Unsupported scheme: invoices cannot be delivered"),
        ("0216:003712345678", Reason.CHECKSUM, "(Scheme 0216 is a Finnish OVT code"),
        ("0037:1572860-1", Reason.CHECKSUM, "(Scheme 0037 is a Finnish business id"),
        ("0007:5560360794", Reason.CHECKSUM, "Swedish organisation number"),
        ("0192:974760674", Reason.CHECKSUM, "Norwegian organisation number"),
        ("0088:7350053850018", Reason.CHECKSUM, "GS1 global location number"),
        ("0088:735005385001", Reason.LENGTH, "has 12 digits instead of 13"),
    ],
)
def test_invalid_peppol_ids(typed, reason, words):
    error = _refusal(peppol_id_clean, typed)
    assert error.reason == reason
    assert words in error.message


def test_an_unsupported_scheme_lists_the_supported_ones():
    message = _refusal(peppol_id_clean, "9908:974760673").message
    for code in PEPPOL_SCHEMES:
        assert code in message
    assert set(PEPPOL_SCHEMES) == {"0007", "0037", "0088", "0184", "0192", "0216"}
    for scheme in PEPPOL_SCHEMES.values():
        assert peppol_id_clean(scheme.example) == scheme.example


@pytest.mark.parametrize(
    ("check", "args"),
    [
        (vat_number_clean, ("FI", "FI١٥٧٢٨٦٠٠")),
        (business_id_clean, ("NO", "٩٧٤٧٦٠٦٧٣")),
        (postal_code_clean, ("FI", "００１００")),
        (einvoice_address_clean, ("0037١٥٧٢٨٦٠٠",)),
    ],
)
def test_digits_of_other_scripts_are_not_digits_here(check, args):
    assert _refusal(check, *args).reason == Reason.FORMAT


def test_full_width_digits_are_read_as_digits_and_stored_ascii():
    # python-stdnum folds compatibility characters, so a number pasted in full width is fine.
    assert business_id_clean("NO", "９７４７６０６７３") == "974760673"
