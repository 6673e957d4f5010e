"""A tenant's settlement terms: its catalogue, price book, regions and parties, read as of an instant."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.settlement.domain.catalogue import Catalogue
from services.settlement.domain.parties import Parties
from services.settlement.domain.pricebook import PriceBook
from services.settlement.domain.regions import Regions


@dataclass(frozen=True)
class Terms:
    catalogue: Catalogue
    prices: PriceBook
    regions: Regions
    parties: Parties
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)  # see pricing.price

    def epoch(self, when: datetime) -> tuple[int, ...]:
        """Which stretch of time between changes `when` falls in: the terms are the same all through one."""
        return (self.catalogue.epoch(when), self.prices.epoch(when), self.regions.epoch(when), self.parties.epoch(when))

    @classmethod
    def of(
        cls,
        tenant: str,
        catalogue: Catalogue | None = None,
        prices: PriceBook | None = None,
        regions: Regions | None = None,
        parties: Parties | None = None,
    ) -> Terms:
        """The tenant's terms; a part it has not set up yet is empty."""
        return cls(
            catalogue or Catalogue(tenant=tenant),
            prices or PriceBook(tenant=tenant),
            regions or Regions(tenant=tenant),
            parties or Parties(tenant=tenant),
        )

    AGGREGATES = (Catalogue, PriceBook, Regions, Parties)
