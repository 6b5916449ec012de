"""The catalog's prices of each kind, as the price book holds them: checked on creation (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from severa.money import to_decimal

PRICING_FLAT = "flat"
PRICING_PER_SEAT = "per_seat"
ADD_ON_PRICINGS: frozenset[str] = frozenset({PRICING_FLAT, PRICING_PER_SEAT})


def price_checked(value: Decimal | int, name: str) -> Decimal:
    amount = to_decimal(value, name=name)
    if amount < 0:
        raise ValueError(f"{name} must not be negative, got {amount}")
    return amount


def count_checked(value: int, name: str) -> int:
    # bool is an int subclass; True GB or True rank is always a bug.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class EditionPrice:
    code: str
    name: str
    rank: int
    included_storage_gb: int
    price_per_seat_month: Decimal

    def __post_init__(self) -> None:
        count_checked(self.rank, "rank")
        count_checked(self.included_storage_gb, "included_storage_gb")
        object.__setattr__(
            self, "price_per_seat_month", price_checked(self.price_per_seat_month, self.code)
        )


@dataclass(frozen=True, slots=True)
class AddOnPrice:
    code: str
    name: str
    pricing: str
    # Per month; per seat per month when `pricing` is per_seat.
    price_per_month: Decimal
    minimum_edition: str | None = None
    included_in: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.pricing not in ADD_ON_PRICINGS:
            raise ValueError(f"add-on {self.code}: pricing must be flat or per_seat")
        object.__setattr__(self, "price_per_month", price_checked(self.price_per_month, self.code))
        object.__setattr__(self, "included_in", frozenset(self.included_in))

    @property
    def is_per_seat(self) -> bool:
        return self.pricing == PRICING_PER_SEAT


@dataclass(frozen=True, slots=True)
class InterfacePrice:
    code: str
    name: str
    price_per_month: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "price_per_month", price_checked(self.price_per_month, self.code))


@dataclass(frozen=True, slots=True)
class StorageTierPrice:
    gigabytes: int
    price_per_month: Decimal
    code: str = ""

    def __post_init__(self) -> None:
        count_checked(self.gigabytes, "gigabytes")
        object.__setattr__(self, "price_per_month", price_checked(self.price_per_month, "storage"))
        if not self.code:
            object.__setattr__(self, "code", f"storage-{self.gigabytes}gb")

    @property
    def name(self) -> str:
        return f"{self.gigabytes} GB"
