"""A price book read from a CSV (UTF-8) or XLSX file, one row per item and tier.

Columns (a header row, any order; blank cells are empty):
    kind            part | labour                    (with name, unit, category: the catalogue entry)
    code            the item's code                  (always)
    name, unit, category, standard_hours, serial_tracked
    tier, price     the unit price in that tier      (optional: a row may only describe the item)

Every row is checked before anything is recorded; the problems are listed with their row numbers.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator

from shared.errors import DomainError

from services.settlement.domain.catalogue import Item

COLUMNS = ("kind", "code", "name", "unit", "category", "standard_hours", "serial_tracked", "tier", "price")
TRUE = {"1", "true", "yes", "y", "是"}


@dataclass
class PriceBookFile:
    items: list[Item] = field(default_factory=list)
    prices: list[tuple[str, str, Decimal]] = field(default_factory=list)  # tier, code, unit price
    problems: list[str] = field(default_factory=list)


def rows(path: Path) -> Iterator[dict[str, str]]:
    """The file's rows as {column: text}."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        values = book.worksheets[0].iter_rows(values_only=True)
        header = [str(h or "").strip() for h in next(values, ())]
        for row in values:
            yield {h: "" if v is None else str(v).strip() for h, v in zip(header, row)}
        book.close()
    else:
        with path.open(encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                yield {k.strip(): (v or "").strip() for k, v in row.items() if k}


def read(path: Path, on_row: Callable[[], None] = lambda: None) -> PriceBookFile:
    found = PriceBookFile()
    for number, row in enumerate(rows(path), start=2):  # row 1 is the header
        on_row()
        try:
            _take(row, found)
        except (DomainError, InvalidOperation, KeyError, TypeError) as problem:
            message = problem.message if isinstance(problem, DomainError) else f"bad value ({problem!r})"
            found.problems.append(f"row {number}: {message}")
    return found


def _take(row: dict[str, Any], found: PriceBookFile) -> None:
    code = row.get("code", "")
    if not code:
        raise DomainError("no code")
    if row.get("name"):
        hours = row.get("standard_hours")
        found.items.append(
            Item(
                kind=row["kind"],
                code=code,
                name=row["name"],
                unit=row["unit"],
                category=row["category"],
                standard_hours=Decimal(hours) if hours else None,
                serial_tracked=row.get("serial_tracked", "").lower() in TRUE,
            )
        )
    if row.get("tier") or row.get("price"):
        if not (row.get("tier") and row.get("price")):
            raise DomainError("a price needs both tier and price")
        found.prices.append((row["tier"], code, Decimal(row["price"])))
