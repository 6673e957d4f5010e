"""Cleaning whole forms into typed field values, with one clear message per bad field."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from collections.abc import Iterable, Mapping

from shared.errors import Invalid

from shared.formfields.fields import LIST_TYPES, Field
from shared.formfields.values import CLEANERS, BadValue, Location, is_empty

DEFAULT_MAX_LENGTH = {"text": 200, "long_text": 5000}


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
