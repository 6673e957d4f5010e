"""How each field type reads what a form sends (see forms.py for whole forms and their messages).

Cleaned values are Python values: Decimal (number, money), str, date, datetime (aware, UTC),
tuple of str (multi select, images, attachments) and Location. Each reader accepts the JSON
that forms.dump_values writes, so a dumped value cleans to itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, UTC
from decimal import Decimal, InvalidOperation
from typing import Any
from collections.abc import Callable, Mapping

from shared.formfields.fields import Field
from shared.numbers import amount_problem, places, to_minor_unit

MAX_NUMBER = Decimal(10) ** 15  # a number field's bounds
NUMBER_PLACES = 10
PHONE = re.compile(r"\+?\d{5,20}")  # after spaces, dashes and brackets are dropped
SERIAL = re.compile(r"[A-Z0-9][A-Z0-9-]{3,63}")


class BadValue(ValueError):
    """Internal: why one value is wrong, without the field's name (the caller adds it)."""


@dataclass(frozen=True)
class Location:
    """Coordinates (a phone's locate button), an address typed in, or both."""

    lat: float | None
    lng: float | None
    address: str = ""

    def to_dict(self) -> dict[str, Any]:
        point = {"lat": self.lat, "lng": self.lng} if self.lat is not None else {}
        return {**point, "address": self.address}


def is_empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, (list, tuple)) and not value)


def _text(f: Field, raw: Any) -> str:
    if not isinstance(raw, str):
        raise BadValue("must be text")
    return raw.strip()


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise BadValue("must be a number")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise BadValue(f"{raw!r} is not a number") from None
    if not number.is_finite():
        raise BadValue("must be a finite number")
    return number


def _number(f: Field, raw: Any) -> Decimal:
    number = _decimal(raw)
    if number.copy_abs() > MAX_NUMBER or places(number) > NUMBER_PLACES:  # sums and comparisons stay exact
        raise BadValue(f"must lie within ±{MAX_NUMBER:,}, with at most {NUMBER_PLACES} decimal places")
    return number


def _money(f: Field, raw: Any) -> Decimal:
    amount = _decimal(raw)
    problem = amount_problem(amount, f.currency)  # rounding silently would lose fen someone typed
    if problem:
        raise BadValue(problem)
    return to_minor_unit(amount, f.currency)


def _single(f: Field, raw: Any) -> str:
    if raw not in f.options:
        raise BadValue(f"{raw!r} is not one of the options ({', '.join(f.options)})")
    return raw


def _items(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str) or not isinstance(raw, (list, tuple)):
        raise BadValue("must be a list")
    if not all(isinstance(item, str) and item.strip() for item in raw):
        raise BadValue("every item must be non-empty text")
    if len(set(raw)) != len(raw):
        raise BadValue("items repeat")
    return tuple(item.strip() for item in raw)


def _multi(f: Field, raw: Any) -> tuple[str, ...]:
    chosen = _items(raw)
    strangers = [item for item in chosen if item not in f.options]
    if strangers:
        raise BadValue(f"{', '.join(map(repr, strangers))} not among the options ({', '.join(f.options)})")
    return chosen


def _date(f: Field, raw: Any) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    try:
        return date.fromisoformat(_text(f, raw))
    except ValueError:
        raise BadValue(f"{raw!r} is not a date (YYYY-MM-DD)") from None


def _datetime(f: Field, raw: Any) -> datetime:
    try:
        moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(_text(f, raw))
    except ValueError:
        raise BadValue(f"{raw!r} is not a date and time (ISO 8601)") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadValue("needs a time zone (e.g. +08:00)")
    return moment.astimezone(UTC)


def _phone(f: Field, raw: Any) -> str:
    number = re.sub(r"[\s\-()]", "", _text(f, raw))
    if not PHONE.fullmatch(number):
        raise BadValue(f"{raw!r} is not a phone number")
    return number


def _serial(f: Field, raw: Any) -> str:
    serial = _text(f, raw).upper()
    if not SERIAL.fullmatch(serial):
        raise BadValue(f"{raw!r} is not a serial number (letters, digits and -, 4 to 64)")
    return serial


def _location(f: Field, raw: Any) -> Location:
    if isinstance(raw, Location):
        raw = raw.to_dict()
    if not isinstance(raw, Mapping):
        raise BadValue("must have lat and lng, or an address")
    address = raw.get("address") or ""
    if not isinstance(address, str):
        raise BadValue("the address must be text")
    given = [axis for axis in ("lat", "lng") if not is_empty(raw.get(axis))]
    if not given:
        if not address.strip():
            raise BadValue("must have lat and lng, or an address")
        return Location(None, None, address.strip())
    if len(given) == 1:
        raise BadValue("must have lat and lng (both)")
    lat, lng = (_decimal(raw[axis]) for axis in ("lat", "lng"))
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise BadValue("lat must lie in [-90, 90] and lng in [-180, 180]")
    return Location(float(lat), float(lng), address.strip())


CLEANERS: dict[str, Callable[[Field, Any], Any]] = {
    "text": _text,
    "long_text": _text,
    "number": _number,
    "money": _money,
    "single_select": _single,
    "multi_select": _multi,
    "date": _date,
    "datetime": _datetime,
    "phone": _phone,
    "image": lambda f, r: _items(r),
    "attachment": lambda f, r: _items(r),
    "location": _location,
    "customer": _text,
    "device_serial": _serial,
}
