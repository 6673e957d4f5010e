"""Workflow's public events, as settlement's follower receives them, for settlement's tests: built
here rather than through workflow, so that a test can deliver them in any batches, again, or after
a restart. Every envelope is checked against its contract first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, UTC
from typing import Any
from uuid import UUID, uuid5

from shared.contracts import validate_envelope
from shared.envelope import Envelope
from shared.transport import Batch

T0 = datetime(2026, 3, 1, tzinfo=UTC)
_IDS = UUID("0f0e0d0c-0b0a-4908-8706-050403020100")


@dataclass
class Feed:
    """Envelopes of one or more tickets, in the order workflow would publish them."""

    tenant: str = "acme"
    start: datetime = T0  # minutes count from here
    envelopes: list[Envelope] = field(default_factory=list)

    def add(self, ticket: UUID, type_: str, minutes: int, data: dict[str, Any]) -> Envelope:
        envelope = Envelope(
            id=uuid5(_IDS, f"{ticket}/{len(self.envelopes)}"),
            source="scrm/workflow",
            type=type_,
            subject=ticket,
            time=self.start + timedelta(minutes=minutes),
            tenant=self.tenant,
            data=data,
            sequence=len(self.envelopes) + 1,
        )
        validate_envelope(envelope)
        self.envelopes.append(envelope)
        return envelope

    def opened(self, ticket: UUID, minutes: int, region: str | None = None) -> Envelope:
        return self.add(
            ticket,
            "ticket.opened",
            minutes,
            {
                "template": "repair",
                "template_version": 1,
                "node": "处理中",
                "handler": "tech-a",
                "reason": "test",
                **({"region": region} if region else {}),
            },
        )

    def work(self, ticket: UUID, minutes: int, kind: str, by: str, items: list[tuple[str, str]]) -> Envelope:
        type_ = {
            "part": "ticket.parts_consumed",
            "labour": "ticket.labour_recorded",
            "return": "ticket.parts_returned",
        }[kind]
        return self.add(ticket, type_, minutes, {"by": by, "items": [{"code": c, "quantity": q} for c, q in items]})

    def closed(self, ticket: UUID, minutes: int, by: str = "supervisor") -> Envelope:
        return self.add(ticket, "ticket.closed", minutes, {"from_node": "处理中", "to_node": "已完成", "by": by})

    def reopened(self, ticket: UUID, minutes: int, by: str = "supervisor") -> Envelope:
        return self.add(
            ticket,
            "ticket.transitioned",
            minutes,
            {
                "action": "reopen",
                "by": by,
                "node": "已完成",
                "from_nodes": ["已完成"],
                "to_nodes": ["处理中"],
                "status": "open",
                "template": "repair",
                "template_version": 1,
            },
        )

    def sla_met(self, ticket: UUID, minutes: int, on_time: bool) -> Envelope:
        at = (self.start + timedelta(minutes=minutes)).isoformat()
        return self.add(
            ticket,
            "ticket.sla_met",
            minutes,
            {
                "node": "处理中",
                "visit": 1,
                "clock": "resolution",
                "how": "left",
                "at": at,
                "deadline": at,
                "on_time": on_time,
            },
        )


def batches(envelopes: list[Envelope], cuts: list[int], stream: str = "workflow") -> list[Batch]:
    """The envelopes in batches ending before each cut; positions are the envelopes' sequences."""
    edges = [0, *sorted(set(c for c in cuts if 0 < c < len(envelopes))), len(envelopes)]
    return [Batch(stream, envelopes[b - 1].sequence, envelopes[a:b]) for a, b in zip(edges, edges[1:]) if b > a]
