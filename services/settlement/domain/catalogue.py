"""The catalogue: service items (项目库, labour) and spare parts (备件库) by code.

Workflow refuses a code the catalogue does not know when a handler records it: it follows the
`settlement.catalogue_changed` events this aggregate's changes are published as.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from shared.errors import Invalid, NotFound

from services.settlement.domain.dated import DatedSettings

KINDS = ("part", "labour")
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


def check_code(code: str, what: str = "code") -> str:
    if not isinstance(code, str) or not CODE.fullmatch(code):
        raise Invalid(
            f"{what} {code!r}: 1 to 64 of A-Z, a-z, 0-9, '-', '_', '.', starting with a letter or digit", **{what: code}
        )
    return code


@dataclass(frozen=True)
class Item:
    kind: str  # part | labour
    code: str
    name: str
    unit: str  # 个, 次, 小时 …
    category: str  # picks the tax rule and payout rules by category (e.g. 配件, 安装, 维修)
    standard_hours: Decimal | None = None  # labour: what an hourly payout pays for one unit
    serial_tracked: bool = False  # parts: each one carries a serial number

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise Invalid(f"kind is one of {', '.join(KINDS)}")
        check_code(self.code)
        for name in ("name", "unit", "category"):
            if not 1 <= len(getattr(self, name)) <= 100:
                raise Invalid(f"{name} of {self.code}: 1 to 100 characters")
        if self.standard_hours is not None and (self.kind != "labour" or self.standard_hours < 0):
            raise Invalid(f"standard hours are for service items, and not negative ({self.code})")
        if self.serial_tracked and self.kind != "part":
            raise Invalid(f"serial numbers are tracked for spare parts only ({self.code})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "name": self.name,
            "unit": self.unit,
            "category": self.category,
            "serial_tracked": self.serial_tracked,
            "standard_hours": None if self.standard_hours is None else str(self.standard_hours),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Item:
        hours = data.get("standard_hours")
        return cls(**{**data, "standard_hours": None if hours is None else Decimal(hours)})


class Catalogue(DatedSettings):
    namespace = UUID("0d8a3d36-5e1f-4c1e-9a53-6f0f1f0b2c41")
    SECTIONS = {"part": Item.from_dict, "labour": Item.from_dict}

    class Changed(DatedSettings.Changed):
        """Items saved or retired: published as settlement.catalogue_changed."""

    def save(self, items: list[Item], since: datetime, by: str) -> int:
        """Add or change items; how many changed (saving an item as it is changes nothing)."""
        changed = 0
        for kind in KINDS:
            values = {i.code: i.to_dict() for i in items if i.kind == kind and self.at(kind, i.code, since) != i}
            self.change(kind, since, values, by)
            changed += len(values)
        return changed

    def retire(self, kind: str, code: str, since: datetime, by: str) -> None:
        """The code is refused from `since` on; work recorded before keeps its name and category."""
        if self.at(kind, code, since) is None:
            raise NotFound(f"no {kind} {code!r} in the catalogue", code=code)
        self.change(kind, since, {code: None}, by)

    def item(self, kind: str, code: str, when: datetime) -> Item | None:
        return self.at(kind, code, when)
