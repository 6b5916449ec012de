"""Money: a `Decimal` amount with its currency, and the one place amounts are rounded.

Rules (DESIGN §3.5, STYLE "Money, dates and state"):

- Amounts are `Decimal`, never `float`: a float cannot hold 0.10 exactly, so any float that
  gets near an amount is refused with `TypeError` rather than silently converted.
- Amounts are quantized to the currency's minor unit in exactly one function, `quantize`,
  with one named rounding mode, `ROUNDING` (half-up, as the design's proration rule says).
- Intermediate ratios (e.g. remaining days / days in period) keep `RATIO_SCALE` decimal
  places, also half-up, so that rounding to cents happens once, at the end of a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

# Minor unit (number of decimal places) per supported currency. All four happen to use 2, but
# code must look the figure up rather than assume it.
CURRENCY_MINOR_UNITS: dict[str, int] = {
    "EUR": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
}
CURRENCIES: frozenset[str] = frozenset(CURRENCY_MINOR_UNITS)
# For model and form fields, in the order above.
CURRENCY_CHOICES: list[tuple[str, str]] = [(code, code) for code in CURRENCY_MINOR_UNITS]

# The one rounding mode for money. Decimal's ROUND_HALF_UP rounds halves away from zero, so a
# credit (-0.005) rounds to -0.01, mirroring the charge it corrects (0.005 -> 0.01).
ROUNDING = ROUND_HALF_UP

# Scale of intermediate ratios (Kill Bill keeps 9 places, HALF_UP).
RATIO_SCALE = 9
RATIO_QUANTUM = Decimal(1).scaleb(-RATIO_SCALE)  # Decimal("1E-9")


def _refuse_float(value: object, name: str) -> None:
    # bool is an int subclass; True as an amount is always a bug.
    if isinstance(value, float | bool):
        raise TypeError(f"{name} must be a Decimal (or int), not {type(value).__name__}")


def to_decimal(value: Decimal | int, *, name: str = "amount") -> Decimal:
    """Return `value` as a finite Decimal; refuse floats, bools, strings and non-finite values."""
    _refuse_float(value, name)
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal (or int), not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def check_currency(currency: str) -> str:
    """Return `currency` if supported, else raise ValueError."""
    if currency not in CURRENCY_MINOR_UNITS:
        supported = ", ".join(sorted(CURRENCY_MINOR_UNITS))
        raise ValueError(f"unsupported currency {currency!r}; supported: {supported}")
    return currency


def minor_unit(currency: str) -> int:
    """Number of decimal places of `currency`'s minor unit (2 for EUR, SEK, NOK, DKK)."""
    return CURRENCY_MINOR_UNITS[check_currency(currency)]


def quantize(amount: Decimal | int, currency: str) -> Decimal:
    """Round `amount` half-up to the minor unit of `currency`.

    This is the only function that rounds money; everything else calls it.
    """
    exponent = Decimal(1).scaleb(-minor_unit(currency))
    return to_decimal(amount).quantize(exponent, rounding=ROUNDING)


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal:
    """`numerator / denominator` rounded half-up to RATIO_SCALE decimal places."""
    numerator = to_decimal(numerator, name="numerator")
    denominator = to_decimal(denominator, name="denominator")
    if denominator == 0:
        raise ValueError("ratio denominator must not be zero")
    with localcontext() as context:
        # Truncate the quotient at a generous precision, then round half-up once: truncation
        # cannot push a value across the half-unit boundary, so this equals rounding the exact
        # quotient (the default context would round half-even at 28 digits first).
        context.prec = 60
        context.rounding = ROUND_DOWN
        quotient = numerator / denominator
    return quotient.quantize(RATIO_QUANTUM, rounding=ROUNDING)


def cash_round(
    amount: Decimal | int, currency: str, increment: Decimal | int = 1
) -> tuple[Decimal, Decimal]:
    """Round a total for cash payment to a multiple of `increment` (default: whole units).

    Returns `(rounded_total, rounding_amount)` with `rounding_amount = rounded_total - amount`,
    so `amount + rounding_amount == rounded_total` exactly. The rounding amount is shown as
    its own figure on the invoice, never folded into a line (EN 16931 BR-CO-16). Halves round
    up (away from zero), like every other rounding of money here.
    """
    amount = quantize(amount, currency)
    increment = to_decimal(increment, name="increment")
    if increment <= 0:
        raise ValueError(f"cash rounding increment must be positive, got {increment}")
    if quantize(increment, currency) != increment:
        raise ValueError(
            f"cash rounding increment {increment} is finer than the minor unit of {currency}"
        )
    steps = (amount / increment).quantize(Decimal(1), rounding=ROUNDING)
    rounded_total = quantize(steps * increment, currency)
    return rounded_total, rounded_total - amount


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency. Arithmetic never mixes currencies and never rounds."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def quantized(self) -> Money:
        """This amount rounded to the currency's minor unit (see `quantize`)."""
        return Money(quantize(self.amount, self.currency), self.currency)

    def _same_currency(self, other: object, operation: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {operation} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(
                f"cannot {operation} amounts in different currencies: "
                f"{self.currency} and {other.currency}"
            )
        return other

    def __add__(self, other: Money) -> Money:
        other = self._same_currency(other, "add")
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        other = self._same_currency(other, "subtract")
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, Money):
            raise TypeError("cannot multiply Money by Money")
        return Money(self.amount * to_decimal(factor, name="factor"), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same_currency(other, "compare").amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same_currency(other, "compare").amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same_currency(other, "compare").amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same_currency(other, "compare").amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
