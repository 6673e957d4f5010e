"""Field definitions of a template (what a ticket records), and their publish-time checks."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.errors import Invalid

FIELD_TYPES = (
    "text",
    "long_text",
    "number",
    "money",
    "single_select",
    "multi_select",
    "date",
    "datetime",
    "phone",
    "image",
    "attachment",
    "location",
    "customer",
    "device_serial",
)
# Field types whose value is a list: their length bounds count items, not characters.
LIST_TYPES = ("multi_select", "image", "attachment")
SELECT_TYPES = ("single_select", "multi_select")
# Words of the condition language: a field with such a key could not be referred to in a condition.
RESERVED_KEYS = ("and", "or", "not", "in", "contains", "is", "empty")
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class Field:
    """One input of a ticket. `required` means required when the ticket is created; what a node
    needs before it can be left is that node's rule (Node.fields.required)."""

    key: str
    label: str
    type: str
    required: bool = False
    default: Any = None  # as a form would send it (JSON); cleaned like any input when used
    options: tuple[str, ...] = ()  # the choices of a select
    min_length: int | None = None  # characters, or items for list types
    max_length: int | None = None
    minimum: Decimal | None = None  # numbers and money
    maximum: Decimal | None = None
    pattern: str | None = None  # a regular expression the whole text must match
    currency: str = "CNY"  # money only
    # Asked of the customer on the H5 page: together these fields are the template's customer-facing first
    # step; the others are for staff at the nodes that show them (a quote, finish photos, a review note).
    ask_customer: bool = False

    def to_dict(self) -> dict[str, Any]:
        # Unset settings are left out; `is` because 0 == False and a 0 minimum is a setting.
        data = {k: v for k, v in asdict(self).items() if not (v is None or v is False or v == ())}
        if self.type != "money":
            data.pop("currency", None)
        for bound in ("minimum", "maximum"):
            if bound in data:
                data[bound] = str(data[bound])
        if "options" in data:
            data["options"] = list(self.options)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Field:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise Invalid(f"field {data.get('key')!r} has unknown settings: {', '.join(sorted(unknown))}")
        try:
            return cls(
                **{
                    **data,
                    "options": tuple(data.get("options", ())),
                    "minimum": _decimal(data.get("minimum")),
                    "maximum": _decimal(data.get("maximum")),
                }
            )
        except TypeError as error:
            raise Invalid(f"field {data.get('key')!r} is incomplete: {error}") from None


def _decimal(raw: Any) -> Decimal | None:
    if raw is None:
        return None
    try:
        number = Decimal(str(raw))
    except InvalidOperation:
        raise Invalid(f"{raw!r} is not a number") from None
    if not number.is_finite():  # NaN cannot be compared with: every value checked against it was a 500
        raise Invalid(f"{raw!r} is not a finite number")
    return number


def field_problems(f: Field) -> list[str]:
    """What is wrong with one field definition, in words a template designer understands."""
    name = f"field {f.key!r}"
    problems = []
    if not KEY_PATTERN.fullmatch(f.key or ""):
        problems.append(f"{name}: a key is lower-case letters, digits and _, starting with a letter")
    if f.key in RESERVED_KEYS:
        problems.append(f"{name}: {f.key!r} is a word of the condition language and cannot be a key")
    if f.type not in FIELD_TYPES:
        return problems + [f"{name}: unknown type {f.type!r} (one of {', '.join(FIELD_TYPES)})"]
    if not (f.label or "").strip():
        problems.append(f"{name}: needs a label")
    if f.type in SELECT_TYPES:
        if not f.options:
            problems.append(f"{name}: a select needs options")
        if len(set(f.options)) != len(f.options):
            problems.append(f"{name}: options repeat")
    elif f.options:
        problems.append(f"{name}: only selects have options")
    for low, high, what in ((f.min_length, f.max_length, "length"), (f.minimum, f.maximum, "range")):
        if low is not None and high is not None and low > high:
            problems.append(f"{name}: the {what} minimum {low} is above the maximum {high}")
    if f.pattern is not None:
        try:
            re.compile(f.pattern)
        except re.error as error:
            problems.append(f"{name}: the pattern {f.pattern!r} is not a regular expression ({error})")
    return problems
