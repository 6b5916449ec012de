import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iso11649, luhn
from stdnum.no import kontonr, orgnr

from billing.references import (
    finnish_reference,
    finnish_reference_check_digit,
    format_finnish_reference,
    is_valid_finnish_reference,
    is_valid_norwegian_kid,
    is_valid_rf_reference,
    is_valid_swedish_ocr,
    norwegian_kid,
    reference_for,
    rf_reference,
    swedish_ocr,
)

# --- Finnish national reference ------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "reference"),
    [
        # 1234561: digits from the right × 7,3,1,...: 7+18+5+28+9+2+7 = 76 -> 80 - 76 = 4
        (1234561, "12345614"),
        ("1234567", "12345672"),  # 118 -> 2, the banks' worked example
        (123, "1232"),  # the shortest: 3-digit base
        (123123, "1231234"),
        (23409678, "234096783"),
        (1000, "10003"),
        ("1234567890123456789", "12345678901234567894"),  # the longest: 19-digit base
    ],
)
def test_finnish_reference(base, reference):
    assert finnish_reference(base) == reference
    assert is_valid_finnish_reference(reference)


def test_finnish_reference_check_digit_zero_when_sum_is_a_multiple_of_ten():
    # 1,5,5 from the right: 5×7 + 5×3 + 1×1 = 51 -> 9; 3,0,1: 1×7+0+3 = 10 -> 0
    assert finnish_reference_check_digit("155") == "9"
    assert finnish_reference_check_digit("301") == "0"


@pytest.mark.parametrize("base", ["12", "12345678901234567890", "0123", "12a4", "", -123])
def test_finnish_reference_refuses_bad_base(base):
    with pytest.raises(ValueError):
        finnish_reference(base)


@pytest.mark.parametrize(
    ("reference", "valid"),
    [
        ("12345672", True),
        ("123 45672", True),
        ("12345673", False),
        ("1232", True),
        ("123", False),
        ("01232", False),
        ("RF8512345672", False),
    ],
)
def test_is_valid_finnish_reference(reference, valid):
    assert is_valid_finnish_reference(reference) is valid


@pytest.mark.parametrize(
    ("reference", "printed"),
    [
        ("12345672", "123 45672"),
        ("234096783", "2340 96783"),
        ("1232", "1232"),
        ("1234567890", "12345 67890"),
        ("12345678901234567894", "12345 67890 12345 67894"),
    ],
)
def test_format_finnish_reference_groups_five_from_the_right(reference, printed):
    assert format_finnish_reference(reference) == printed


# --- RF creditor reference -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "reference"),
    [
        ("539007547034", "RF18539007547034"),  # ISO 11649's own example
        ("12345672", "RF8512345672"),  # a Finnish reference inside an RF reference
        (1234567, "RF661234567"),
        ("abc 123", "RF47ABC123"),
    ],
)
def test_rf_reference(base, reference):
    assert rf_reference(base) == reference
    assert iso11649.is_valid(reference)
    assert is_valid_rf_reference(reference)


def test_rf_reference_detects_a_typo():
    assert not is_valid_rf_reference("RF18539007547035")


@pytest.mark.parametrize("base", ["", "1234567890123456789012", "12-34", "åäö"])
def test_rf_reference_refuses_bad_base(base):
    with pytest.raises(ValueError):
        rf_reference(base)


# --- Swedish OCR ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "with_length_digit", "reference"),
    [
        ("7992739871", False, "79927398713"),  # the textbook Luhn example
        (12345678, False, "123456782"),
        ("1234567890", True, "123456789023"),  # 12 digits in all -> length digit 2
        ("12345", True, "1234574"),  # 7 digits in all -> length digit 7
    ],
)
def test_swedish_ocr(base, with_length_digit, reference):
    assert swedish_ocr(base, with_length_digit=with_length_digit) == reference
    assert luhn.is_valid(reference)
    assert is_valid_swedish_ocr(reference, with_length_digit=with_length_digit)


@pytest.mark.parametrize(
    ("reference", "with_length_digit", "valid"),
    [
        ("79927398713", False, True),
        ("79927398714", False, False),
        ("1234574", True, True),
        ("123457", True, False),  # Luhn may pass by chance, but the length digit is wrong
        ("1", False, False),
        ("12345678901234567890123452", False, False),  # 26 digits: too long
    ],
)
def test_is_valid_swedish_ocr(reference, with_length_digit, valid):
    assert is_valid_swedish_ocr(reference, with_length_digit=with_length_digit) is valid


def test_swedish_ocr_refuses_too_long_base():
    with pytest.raises(ValueError, match="at most 25"):
        swedish_ocr("1" * 25)


# --- Norwegian KID -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "algorithm", "kid"),
    [
        ("1234567890", "mod10", "12345678903"),
        ("0000000001", "mod10", "00000000018"),
        ("1000000000", "mod10", "10000000009"),
        ("1000000000", "mod11", "10000000006"),
        ("0000000001", "mod11", "00000000019"),
        # Norwegian organisation numbers use the same mod 11 (weights 2-7 from the right)
        ("98807791", "mod11", "988077917"),
        ("99552582", "mod11", "995525828"),
    ],
)
def test_norwegian_kid(base, algorithm, kid):
    assert norwegian_kid(base, algorithm=algorithm) == kid
    assert is_valid_norwegian_kid(kid)


def test_kid_mod11_agrees_with_stdnum_on_organisation_and_account_numbers():
    assert orgnr.is_valid(norwegian_kid("98807791", algorithm="mod11"))
    assert kontonr.is_valid(norwegian_kid("8601111794", algorithm="mod11"))  # 8601.11.17947


def test_kid_mod11_refuses_a_base_that_needs_a_dash():
    # 1009: 9×2 + 0×3 + 0×4 + 1×5 = 23; 23 mod 11 = 1 -> 11 - 1 = 10, written "-".
    with pytest.raises(ValueError, match="no numeric mod-11 check digit"):
        norwegian_kid("1009", algorithm="mod11")
    assert is_valid_norwegian_kid("1009-")


@pytest.mark.parametrize(
    ("kid", "valid"),
    [
        ("12345678903", True),
        ("12345678904", False),
        ("10000000006", True),  # mod 11
        ("10000000009", True),  # mod 10
        ("10000000007", False),
        ("1", False),
        ("12-", False),
        ("1" * 26, False),
    ],
)
def test_is_valid_norwegian_kid(kid, valid):
    assert is_valid_norwegian_kid(kid) is valid


@pytest.mark.parametrize("base", ["", "1" * 25, "12a"])
def test_norwegian_kid_refuses_bad_base(base):
    with pytest.raises(ValueError):
        norwegian_kid(base)


def test_norwegian_kid_refuses_unknown_algorithm():
    with pytest.raises(ValueError, match="unknown KID algorithm"):
        norwegian_kid("1234", algorithm="mod97")


# --- per country ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "base", "reference"),
    [
        ("FI", 1234561, "12345614"),
        ("fi", "1234567", "12345672"),
        ("SE", "7992739871", "79927398713"),
        ("NO", "1234567890", "12345678903"),
        ("DK", "539007547034", "RF18539007547034"),
        ("DE", 1234567, "RF661234567"),
    ],
)
def test_reference_for(country, base, reference):
    assert reference_for(country, base) == reference


@given(base=st.integers(min_value=100, max_value=10**19 - 1))
def test_every_generated_reference_validates(base):
    assert is_valid_finnish_reference(reference_for("FI", base))
    assert is_valid_swedish_ocr(reference_for("SE", base))
    assert is_valid_norwegian_kid(reference_for("NO", base))
    assert iso11649.is_valid(reference_for("GB", base))


@given(base=st.integers(min_value=100, max_value=10**19 - 1), position=st.integers(0, 18))
def test_finnish_reference_catches_any_single_digit_typo(base, position):
    reference = finnish_reference(base)
    position %= len(reference)
    digit = reference[position]
    typo = str((int(digit) + 1) % 10)

    assert not is_valid_finnish_reference(reference[:position] + typo + reference[position + 1 :])
