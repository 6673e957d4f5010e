"""A desk for assignment and read-model tests: templates whose work node uses one assignment rule,
and tickets opened straight from ticket.created envelopes (with a region and a time, which intake's
channels do not set)."""

from __future__ import annotations

from datetime import datetime, timezone, UTC
from uuid import UUID, uuid4

from shared.contracts import contract, validate_envelope
from shared.envelope import Envelope
from shared.transport import Batch

from tests.integration.test_workflow_templates import ADMIN, Desk

FIELDS = [
    {"key": "address", "label": "地址", "type": "location"},
    {"key": "skill", "label": "技能", "type": "text"},
    {"key": "secret", "label": "内部备注", "type": "text"},
]


def flow(key: str, rule: str, first: bool = False) -> dict:
    """triage (dispatchers fill in address and skill) → work (by `rule`) → done; with `first`, the
    ticket starts at work, assigned when it opens."""
    work = {
        "key": "work",
        "name": "上门",
        "handler": {"kind": "assignment_rule", "value": rule},
        "actions": ["view", "edit", "advance", "transfer", "close"],
        "fields": {"hidden": ["secret"], "editable": ["skill"]},
    }
    triage = {
        "key": "triage",
        "name": "分派",
        "handler": {"kind": "role", "value": "dispatcher"},
        "actions": ["view", "edit", "advance"],
        "fields": {"editable": ["address", "skill", "secret"]},
    }
    done = {"key": "done", "name": "完成", "kind": "end", "actions": ["view", "reopen"]}
    if first:
        return {
            "key": key,
            "name": key,
            "fields": FIELDS,
            "nodes": [work, done],
            "transitions": [{"from": "work", "to": "done"}],
        }
    return {
        "key": key,
        "name": key,
        "fields": FIELDS,
        "nodes": [triage, work, done],
        "transitions": [{"from": "triage", "to": "work"}, {"from": "work", "to": "done"}],
    }


class DispatchDesk(Desk):
    def __init__(self, settings):
        super().__init__(settings)
        self.position = 10_000  # beyond anything intake's log holds in these tests

    def staff(self, **members: dict) -> None:
        for user, member in members.items():
            answer = self.http.put(f"/v1/tenants/acme/staff/{user}", json=member, headers=ADMIN)
            assert answer.status_code == 200, answer.json

    def publish(self, template: dict) -> None:
        base = f"/v1/tenants/acme/templates/{template['key']}"
        assert self.http.put(f"{base}/draft", json=template, headers=ADMIN).status_code == 200
        answer = self.http.post(f"{base}/publish", headers=ADMIN)
        assert answer.status_code == 201, answer.json

    def created(
        self,
        template: str,
        region: str | None = None,
        customer: str = "lisi",
        count: int = 1,
        customer_id: str | None = None,
        flags: list[str] | None = None,
    ) -> list[str]:
        """Open `count` tickets in one batch of the worker, as intake's ticket.created would (of the
        customer `customer_id` in intake's directory, with their `flags`, when given)."""
        envelopes = []
        for _ in range(count):
            ticket = uuid4()
            data = {
                "customer": {"wecom_userid": customer, **({"flags": flags} if flags else {})},
                "description": "报修",
                "channel": "wecom",
                "template": template,
                "submission_id": str(ticket),
                **({"region": region} if region else {}),
                **({"customer_id": customer_id} if customer_id else {}),
            }
            envelopes.append(self.envelope("ticket.created", ticket, data))
        self.feed(*envelopes)
        return [f"/v1/tenants/acme/tickets/{e.subject}" for e in envelopes]

    def merged(self, merged: str, into: str, identities: dict[str, list[str]]) -> None:
        """Intake merged customer `merged` into `into` (its customer.merged)."""
        data = {"customer_id": into, "merged_customer_id": merged, "identities": identities, "by": "api"}
        self.feed(self.envelope("customer.merged", UUID(into), data))

    @staticmethod
    def envelope(type_: str, subject: UUID, data: dict) -> Envelope:
        envelope = Envelope(
            id=uuid4(),
            source="scrm/intake",
            type=type_,
            subject=subject,
            time=datetime.now(UTC),
            tenant="acme",
            data=data,
            schema_version=contract(type_).version,
        )
        return validate_envelope(envelope)  # what intake publishes fits its contract

    def feed(self, *envelopes: Envelope) -> None:
        self.position += 1
        self.worker.process(Batch("intake", self.position, list(envelopes)))

    def handler(self, ticket: str, node: str = "work") -> tuple[str, str]:
        node = next(n for n in self.see(ticket)["nodes"] if n["key"] == node)
        return node["handler"], node["reason"]
