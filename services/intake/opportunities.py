"""Opportunities (商机): a sale a customer may bring, moved through stages until won or lost. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.errors import Conflict, Invalid, NotFound
from shared.numbers import DEFAULT_CURRENCY, amount_problem

STAGES = ("lead", "qualified", "proposal", "negotiation")  # 线索, 已确认, 方案, 谈判: still open
OUTCOMES = ("won", "lost")


@dataclass(frozen=True)
class Opportunity:
    id: str
    title: str
    amount: str | None  # a Decimal as text, in the tenant's currency
    stage: str
    reason: str | None = None  # why it was lost

    @property
    def open(self) -> bool:
        return self.stage in STAGES

    def moved(self, stage: str, reason: str | None = None) -> Opportunity:
        return replace(self, stage=stage, reason=reason)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "amount": self.amount,
            "stage": self.stage,
            "open": self.open,
            **({"reason": self.reason} if self.reason else {}),
        }


def check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise Invalid(f"an open stage is one of {', '.join(STAGES)} (win or lose to close it)", stage=stage)


def check_amount(amount: str | None) -> str | None:
    if amount is None:
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise Invalid("the amount is a decimal number", amount=amount) from None
    problem = amount_problem(value, DEFAULT_CURRENCY)
    if problem:
        raise Invalid(f"the amount {problem}", amount=amount)
    if value < 0:
        raise Invalid("the amount is a number of at least 0", amount=amount)
    return str(value)


def check_open(opportunity: Opportunity | None, opportunity_id: str) -> Opportunity:
    if opportunity is None:
        raise NotFound("no such opportunity", opportunity_id=opportunity_id)
    if not opportunity.open:
        raise Conflict(f"the opportunity was already {opportunity.stage}", opportunity_id=opportunity_id)
    return opportunity
