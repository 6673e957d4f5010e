"""Money is Decimal in a currency, rounded half-up to the currency's minor unit (分 for CNY and
HKD, none for JPY) once per line; totals are sums of rounded lines and are never rounded again."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from shared.errors import Invalid

MINOR_UNITS = {"CNY": 2, "HKD": 2, "MOP": 2, "TWD": 2, "USD": 2, "EUR": 2, "GBP": 2, "SGD": 2, "JPY": 0, "KRW": 0}
_QUANTA = {currency: Decimal(1).scaleb(-digits) for currency, digits in MINOR_UNITS.items()}
ZERO = Decimal(0)


def check_currency(code: str) -> str:
    if code not in MINOR_UNITS:
        raise Invalid(f"unknown currency {code!r}: one of {', '.join(MINOR_UNITS)}", currency=code)
    return code


def rounded(amount: Decimal, currency: str) -> Decimal:
    """Half-up (away from zero on a tie, so a credit mirrors its charge) to the minor unit."""
    return amount.quantize(_QUANTA[currency], rounding=ROUND_HALF_UP)


def zero(currency: str | None) -> Decimal:
    return _QUANTA[currency] * 0 if currency else ZERO


def negated(amount: Decimal) -> Decimal:
    """-amount, without the negative zero ("-0.00") Decimal would write for a zero amount."""
    return -amount if amount else abs(amount)


def total(amounts, currency: str | None) -> Decimal:
    return sum(amounts, zero(currency))
