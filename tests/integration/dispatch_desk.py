"""A desk for assignment and read-model tests: templates whose work node uses one assignment rule,
and tickets opened straight from ticket.created envelopes (with a region and a time, which intake's
channels do not set)."""

from __future__ import annotations

from datetime import datetime, timezone, UTC
from uuid import uuid4

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

    def created(self, template: str, region: str | None = None, customer: str = "lisi", count: int = 1) -> list[str]:
        """Open `count` tickets in one batch of the worker, as intake's ticket.created would."""
        envelopes = []
        for _ in range(count):
            ticket = uuid4()
            envelopes.append(
                Envelope(
                    id=uuid4(),
                    source="scrm/intake",
                    type="ticket.created",
                    subject=ticket,
                    time=datetime.now(UTC),
                    tenant="acme",
                    data={
                        "customer": {"wecom_userid": customer},
                        "description": "报修",
                        "channel": "wecom",
                        "template": template,
                        "region": region,
                    },
                )
            )
        self.position += 1
        self.worker.process(Batch("intake", self.position, envelopes))
        return [f"/v1/tenants/acme/tickets/{e.subject}" for e in envelopes]

    def handler(self, ticket: str, node: str = "work") -> tuple[str, str]:
        node = next(n for n in self.see(ticket)["nodes"] if n["key"] == node)
        return node["handler"], node["reason"]
