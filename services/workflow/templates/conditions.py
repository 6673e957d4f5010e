"""The syntax tree of a transition's condition, and how it evaluates over field values.

Semantics, chosen so that a ticket never gets stuck on a condition:
- An empty field (no value) equals only another empty value: `x = 1` is false and `x != 1` true;
  ordering (<, <=, >, >=), `in` and `contains` with an empty side are false.
- Operands must be of compatible kinds (number, text, date, datetime, list). Publishing checks
  this against the field types (`kind_problem`), so a mismatch at run time can only come from
  unvalidated data: it raises ConditionError (an Invalid), never silently picks a branch.
- Dates and date-times compare with text literals written in ISO 8601 ('2024-06-30').
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from collections.abc import Mapping

from shared.errors import Invalid

from shared.formfields.values import Location, is_empty

ORDERING = ("<", "<=", ">", ">=")
COMPARISONS = ("=", "!=") + ORDERING


class ConditionError(Invalid):
    """A condition cannot be evaluated over these values (operands of incompatible kinds)."""


def kind_of(value: Any) -> str:
    for kind, types in (
        ("number", Decimal),
        ("text", str),
        ("datetime", datetime),
        ("date", date),
        ("list", tuple),
        ("location", Location),
    ):
        if isinstance(value, types):
            return kind
    return "empty" if value is None else type(value).__name__


def kind_problem(op: str, left: str, right: str) -> str | None:
    """Why `left op right` cannot be evaluated, by the operands' kinds; None if it can.
    `text` stands for a literal that a date or date-time is compared with."""
    if "empty" in (left, right):
        return None
    if op == "in":
        return (
            None
            if right == "list" and left in ("text", "number")
            else "`in` needs text or a number on the left and a list on the right"
        )
    if op == "contains":
        return (
            None
            if left in ("text", "list") and right == "text"
            else "`contains` needs text or a list on the left and text on the right"
        )
    if "location" in (left, right) or "list" in (left, right):
        return (
            f"a {'location' if 'location' in (left, right) else 'list'} can only be tested with `is empty`/`contains`"
        )
    if left == right or {left, right} in ({"date", "text"}, {"datetime", "text"}):
        return None
    return f"cannot compare {left} with {right}"


def as_moment(text: str, kind: str) -> date | datetime:
    """A text literal read as the date or (zoned) date-time it is compared with; ValueError if not one."""
    if kind == "date":
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} needs a time zone")
    return moment


def _moment_of(value: Any, like: Any, source: str) -> Any:
    if not isinstance(value, str) or not isinstance(like, date):
        return value
    try:
        return as_moment(value, kind_of(like))
    except ValueError:
        raise ConditionError(
            f"{value!r} is not a {kind_of(like)} with its time zone, in {source!r}", condition=source
        ) from None


def compare(op: str, left: Any, right: Any, source: str = "") -> bool:
    if op in ("=", "!=") and (left is None or right is None):
        return (left is None and right is None) == (op == "=")
    if left is None or right is None:
        return False
    problem = kind_problem(op, kind_of(left), kind_of(right))
    if problem:
        raise ConditionError(f"{problem} in {source!r}", condition=source)
    if op == "in":
        return left in right
    if op == "contains":
        return right in left
    left, right = _moment_of(left, right, source), _moment_of(right, left, source)
    return {
        "=": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


@dataclass(frozen=True)
class FieldRef:
    key: str

    def evaluate(self, values: Mapping[str, Any], source: str) -> Any:
        return values.get(self.key)

    def fields(self) -> frozenset[str]:
        return frozenset({self.key})


@dataclass(frozen=True)
class Literal:
    value: Any  # Decimal, str or a tuple of them

    def evaluate(self, values: Mapping[str, Any], source: str) -> Any:
        return self.value

    def fields(self) -> frozenset[str]:
        return frozenset()


@dataclass(frozen=True)
class Compare:
    op: str  # one of COMPARISONS, "in" or "contains"
    left: FieldRef | Literal
    right: FieldRef | Literal

    def evaluate(self, values: Mapping[str, Any], source: str) -> bool:
        return compare(self.op, self.left.evaluate(values, source), self.right.evaluate(values, source), source)

    def fields(self) -> frozenset[str]:
        return self.left.fields() | self.right.fields()


@dataclass(frozen=True)
class IsEmpty:
    operand: FieldRef | Literal

    def evaluate(self, values: Mapping[str, Any], source: str) -> bool:
        return is_empty(self.operand.evaluate(values, source))

    def fields(self) -> frozenset[str]:
        return self.operand.fields()


@dataclass(frozen=True)
class Not:
    operand: Any

    def evaluate(self, values: Mapping[str, Any], source: str) -> bool:
        return not self.operand.evaluate(values, source)

    def fields(self) -> frozenset[str]:
        return self.operand.fields()


@dataclass(frozen=True)
class Logic:
    op: str  # "and" / "or"
    parts: tuple[Any, ...]

    def evaluate(self, values: Mapping[str, Any], source: str) -> bool:
        results = (part.evaluate(values, source) for part in self.parts)
        return all(results) if self.op == "and" else any(results)

    def fields(self) -> frozenset[str]:
        return frozenset().union(*(part.fields() for part in self.parts))
