"""Who does the work: each technician's cooperation mode (direct, dealer, partner …), the dealer or
partner they work for, their home region and warehouse. A staff member settlement has not been
told about works in the direct mode for the tenant itself, and every priced line says so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from services.settlement.domain.catalogue import check_code
from services.settlement.domain.dated import DatedSettings

DIRECT = "direct"


@dataclass(frozen=True)
class Technician:
    staff: str
    mode: str = DIRECT
    party: str | None = None  # the dealer or partner (经销商 / 合作方); None: the tenant's own staff
    home_region: str | None = None  # a settlement region's code
    warehouse: str | None = None  # where the parts they use come from
    known: bool = True  # False: not registered, the defaults above stand in

    def __post_init__(self) -> None:
        check_code(self.mode, "mode")
        if self.party is not None:
            check_code(self.party, "party")

    def to_dict(self) -> dict[str, Any]:
        return {
            "staff": self.staff,
            "mode": self.mode,
            "party": self.party,
            "home_region": self.home_region,
            "warehouse": self.warehouse,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Technician:
        return cls(**data)


class Parties(DatedSettings):
    namespace = UUID("b47c1e2a-6d5f-4a3b-9c8e-7f6a5b4c3d29")
    SECTIONS = {"technician": Technician.from_dict}

    class Changed(DatedSettings.Changed):
        """Technicians registered or changed."""

    def save(self, technician: Technician, since: datetime, by: str) -> None:
        self.change("technician", since, {technician.staff: technician.to_dict()}, by)

    def technician(self, staff: str, when: datetime) -> Technician:
        return self.at("technician", staff, when) or Technician(staff, known=False)
