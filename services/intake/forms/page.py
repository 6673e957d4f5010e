"""What an H5 page checks before it sends, taken from the rules the server checks with (the form-field
kernel's bounds, shapes and defaults), so the page and the server never disagree on a value."""

from __future__ import annotations

from typing import Any

from shared.contracts import PHONE as CONTACT_PHONE
from shared.formfields.fields import Field
from shared.formfields.forms import DEFAULT_MAX_LENGTH
from shared.formfields.values import MAX_NUMBER, NUMBER_PLACES, PHONE, SERIAL
from shared.numbers import MAX_AMOUNT, minor_unit

SHAPES = {"phone": PHONE.pattern, "device_serial": SERIAL.pattern}  # after the server's normalising


def rules(f: Field) -> dict[str, Any]:
    """A field's rules as the page's script reads them (JSON in the field's data-rules)."""
    longest = f.max_length if f.max_length is not None else DEFAULT_MAX_LENGTH.get(f.type)
    found: dict[str, Any] = {
        "type": f.type,
        "required": f.required,
        "min_length": f.min_length,
        "max_length": longest,
        "pattern": f.pattern,
        "shape": SHAPES.get(f.type),
    }
    if f.type in ("number", "money"):
        found |= {
            "minimum": None if f.minimum is None else str(f.minimum),
            "maximum": None if f.maximum is None else str(f.maximum),
            "max_abs": str(MAX_AMOUNT if f.type == "money" else MAX_NUMBER),
            "places": minor_unit(f.currency) if f.type == "money" else NUMBER_PLACES,
        }
    if f.options:
        found["options"] = list(f.options)
    return {k: v for k, v in found.items() if v is not None}


# The fixed contact parts (forms/customer.py H5Customer), checked as sent: neither trimmed nor normalised.
CONTACT_RULES = {
    "name": {"type": "text", "required": True, "min_length": 1, "max_length": 500, "raw": True},
    "phone": {"type": "text", "required": True, "shape": CONTACT_PHONE.regex.pattern, "raw": True},
    "address": {"type": "text", "required": True, "min_length": 1, "max_length": 500, "raw": True},
}
