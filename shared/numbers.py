"""Bounds on the numbers people enter: quantities of items, and amounts of money. No I/O here.

A Decimal holds 1E+40 or 1E+999999999, but nothing can be computed with it: Decimal works to 28
digits, so pricing 1E+40 parts or rounding 1e30 yuan to the fen raised decimal.InvalidOperation (a
500 at the edge; a ticket closed that could never be settled). Every edge that takes such a number
checks it here, and the public contract of recorded items does too, so none out of bounds is ever
recorded or published. Within these bounds every sum and product the platform makes is exact.
"""

from __future__ import annotations

from decimal import Decimal

MAX_QUANTITY = Decimal(1_000_000)
QUANTITY_PLACES = 3
MAX_AMOUNT = Decimal(10) ** 12
DEFAULT_CURRENCY = "CNY"  # of amounts that name none (an opportunity's)
# ISO 4217 minor units that are not 2 (the fen, the cent); a currency not listed has 2.
MINOR_UNITS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "UGX": 0,
    "PYG": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}


def minor_unit(currency: str) -> int:
    """How many decimal places an amount in `currency` has."""
    return MINOR_UNITS.get(currency, 2)


def places(number: Decimal) -> int:
    """Decimal places that carry a digit: 1.50 has one, 1E-40 forty. Exact for any finite number (no
    arithmetic: the context would round, or trap on 1E-999999999)."""
    _, digits, exponent = number.as_tuple()
    significant = "".join(map(str, digits)).rstrip("0")
    return max(0, len(significant) - len(digits) - exponent) if significant else 0


def quantity_problem(quantity: Decimal) -> str | None:
    """What is wrong with a quantity of items, in the words of the error message; None when nothing."""
    if not quantity.is_finite() or not 0 < quantity <= MAX_QUANTITY or places(quantity) > QUANTITY_PLACES:
        return f"must be more than 0 and at most {MAX_QUANTITY:,}, with at most {QUANTITY_PLACES} decimal places"
    return None


def amount_problem(amount: Decimal, currency: str) -> str | None:
    """What is wrong with an amount of money in `currency`; None when nothing."""
    unit = minor_unit(currency)
    if not amount.is_finite() or amount.copy_abs() > MAX_AMOUNT or places(amount) > unit:
        return f"must lie within ±{MAX_AMOUNT:,} {currency}, with at most {unit} decimal places"
    return None


def to_minor_unit(amount: Decimal, currency: str) -> Decimal:
    """An amount within bounds with exactly the currency's decimal places (12.5 CNY -> 12.50)."""
    return amount.quantize(Decimal(1).scaleb(-minor_unit(currency)))
