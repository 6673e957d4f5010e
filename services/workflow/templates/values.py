"""Cleaning what a form sends into typed field values, with one clear message per bad field.

Cleaned values are Python values: Decimal (number, money), str, date, datetime (aware, UTC),
tuple of str (multi select, images, attachments) and Location. `dump_values` turns them back
into JSON; cleaning accepts both, so a dumped value cleans to itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Mapping

from shared.errors import Invalid

from services.workflow.templates.fields import LIST_TYPES, Field

PHONE = re.compile(r"\+?\d{5,20}")  # after spaces, dashes and brackets are dropped
SERIAL = re.compile(r"[A-Z0-9][A-Z0-9-]{3,63}")
DEFAULT_MAX_LENGTH = {"text": 200, "long_text": 5000}


class BadValue(ValueError):
    """Internal: why one value is wrong, without the field's name (the caller adds it)."""


@dataclass(frozen=True)
class Location:
    lat: float
    lng: float
    address: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"lat": self.lat, "lng": self.lng, "address": self.address}


def is_empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, (list, tuple)) and not value)


def _text(f: Field, raw: Any) -> str:
    if not isinstance(raw, str):
        raise BadValue("must be text")
    return raw.strip()


def _number(f: Field, raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise BadValue("must be a number")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise BadValue(f"{raw!r} is not a number") from None
    if not number.is_finite():
        raise BadValue("must be a finite number")
    return number


def _money(f: Field, raw: Any) -> Decimal:
    amount = _number(f, raw)
    if amount.as_tuple().exponent < -2:  # rounding money silently would lose cents someone typed
        raise BadValue("has more than 2 decimal places")
    return amount.quantize(Decimal("0.01"))


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
    return moment.astimezone(timezone.utc)


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
    if not isinstance(raw, Mapping) or not {"lat", "lng"} <= set(raw):
        raise BadValue("must have lat and lng")
    lat, lng = (_number(f, raw[axis]) for axis in ("lat", "lng"))
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise BadValue("lat must lie in [-90, 90] and lng in [-180, 180]")
    address = raw.get("address") or ""
    if not isinstance(address, str):
        raise BadValue("the address must be text")
    return Location(float(lat), float(lng), address.strip())


CLEANERS: dict[str, Callable[[Field, Any], Any]] = {
    "text": _text, "long_text": _text, "number": _number, "money": _money, "single_select": _single,
    "multi_select": _multi, "date": _date, "datetime": _datetime, "phone": _phone, "image": lambda f, r: _items(r),
    "attachment": lambda f, r: _items(r), "location": _location, "customer": _text, "device_serial": _serial,
}


def _check_bounds(f: Field, value: Any) -> None:
    if isinstance(value, (str, tuple)):
        size, unit = len(value), ("items" if f.type in LIST_TYPES else "characters")
        longest = f.max_length if f.max_length is not None else DEFAULT_MAX_LENGTH.get(f.type)
        if f.min_length is not None and size < f.min_length:
            raise BadValue(f"needs at least {f.min_length} {unit}")
        if longest is not None and size > longest:
            raise BadValue(f"allows at most {longest} {unit}")
    if isinstance(value, Decimal):
        if f.minimum is not None and value < f.minimum:
            raise BadValue(f"must be at least {f.minimum}")
        if f.maximum is not None and value > f.maximum:
            raise BadValue(f"must be at most {f.maximum}")
    if f.pattern is not None and isinstance(value, str) and not re.fullmatch(f.pattern, value):
        raise BadValue(f"does not match the pattern {f.pattern}")


def clean_value(f: Field, raw: Any) -> Any:
    """The typed value of one input, None when empty; raises Invalid naming the field."""
    try:
        value = None if is_empty(raw) else CLEANERS[f.type](f, raw)
        if is_empty(value):
            return None
        _check_bounds(f, value)
        return value
    except BadValue as why:
        raise Invalid(f"{f.label} ({f.key}) {why}", errors={f.key: str(why)}) from None


def validate_values(fields: Iterable[Field], values: Mapping[str, Any], partial: bool = False) -> dict[str, Any]:
    """Clean a whole form. A full form (a new ticket) gets defaults and must have every required
    field; a partial one (an update) is only the fields it names, None clearing a field.
    Every bad field is reported at once, in `errors` (key -> message)."""
    by_key = {f.key: f for f in fields}
    errors = {key: "is not a field of this template" for key in values if key not in by_key}
    cleaned: dict[str, Any] = {}
    for f in by_key.values():
        if f.key not in values and partial:
            continue
        raw = values.get(f.key, None if partial else f.default)
        try:
            cleaned[f.key] = clean_value(f, raw)
        except Invalid as error:
            errors[f.key] = error.details["errors"][f.key]
            continue
        if f.required and not partial and cleaned[f.key] is None:
            errors[f.key] = "is required"
    if errors:
        labels = {key: by_key[key].label if key in by_key else key for key in errors}
        listed = "; ".join(f"{labels[key]} ({key}) {message}" for key, message in errors.items())
        raise Invalid(f"{len(errors)} field(s) are not valid: {listed}", errors=errors)
    return cleaned


def dump_value(value: Any) -> Any:
    """A cleaned value as JSON."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Location):
        return value.to_dict()
    return value


def dump_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: dump_value(value) for key, value in values.items()}
