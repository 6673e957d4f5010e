"""Overdue tickets and SLA compliance in the read models, on SQLite and PostgreSQL, with the SLA
timers' controllable clock: a ticket whose clocks were met in time, one with a recorded breach, one
whose deadline passed while no timer worker ran, and one still within its targets. The tickets open
at (almost) the same instant (intake's time); their templates' targets set their deadlines apart. The overdue
filter, the overdue list's order and the dashboard's compliance follow; a rebuilt projection (and
one rebuilt because its tables had an older shape) equals the incremental one."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from services.workflow.readmodels.projector import Projector
from services.workflow.readmodels.store import SCHEMA_KEY, ViewStore
from services.workflow.templates.model import Template
from tests.integration.test_sla_timers import TEMPLATE, Platform
from tests.support.identity import staff as as_staff

BASE = "/v1/tenants/acme"
CS = as_staff("cs-1")


class Desk(Platform):
    """The SLA platform with two more templates, slower than hotline (1h response, 4h resolution), and
    tickets opened in a region."""

    def __init__(self, settings):
        super().__init__(settings)
        for key, response, resolution in (("slow", "2h", "4h"), ("repair", "8h", "24h")):
            node = {
                **TEMPLATE["nodes"][0],
                "sla": {**TEMPLATE["nodes"][0]["sla"], "response": response, "resolution": resolution},
            }
            template = Template.from_dict({**TEMPLATE, "key": key, "nodes": [node, *TEMPLATE["nodes"][1:]]})
            self.app.change_library(
                "acme", lambda lib, t=template: (lib.save_draft(t, "admin"), lib.publish(t.key, "admin"))
            )

    def open_in(self, region: str, template: str = "hotline") -> str:
        self.opened += 1
        accepted = self.intake.submit(
            "acme", "wecom", f"m-{self.opened}", {"wecom_userid": "lisi"}, "投诉", template=template, region=region
        )
        while self.worker.run_once():
            pass
        ticket = self.app.repository.get(accepted.ticket_id)
        self.clock.at = max(self.clock.at, ticket.sla.clocks[0].started)
        return str(accepted.ticket_id)

    def started(self, ticket_id: str):
        return min(e.at for e in self.app.events.get(UUID(ticket_id)) if type(e).__name__ == "SlaStarted")

    def advance(self, ticket_id: str) -> None:
        answer = self.http.post(f"{BASE}/tickets/{ticket_id}/actions", json={"action": "advance"}, headers=CS)
        assert answer.status_code == 200 and answer.json["status"] == "closed", answer.json

    def listed(self, path: str, **query) -> list[str]:
        answer = self.http.get(path, query_string=query)
        assert answer.status_code == 200, answer.json
        return [t["id"] for t in answer.json["tickets"]]


@pytest.fixture
def desk(settings):
    """breached (北京, hotline): its response timer fired; passed (上海, slow): its response deadline
    went by while no timer worker ran; met (上海, hotline): closed within its targets; pending (北京,
    repair): within its targets."""
    desk = Desk(settings)
    breached, passed = desk.open_in("北京"), desk.open_in("上海", "slow")
    met, pending = desk.open_in("上海"), desk.open_in("北京", "repair")
    desk.clock.advance(minutes=10)
    desk.advance(met)
    desk.clock.at = desk.started(breached) + timedelta(minutes=62)
    assert desk.timers().run_once() == 3  # breached: warn, breach, escalate.0
    desk.clock.at = desk.started(passed) + timedelta(hours=2, minutes=1)  # nobody fires passed's breach
    return desk, {"breached": breached, "passed": passed, "met": met, "pending": pending}


def names(ids: dict[str, str], found: list[str]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[t] for t in found]


def test_the_overdue_filter_and_the_overdue_list(desk):
    desk, ids = desk
    assert sorted(names(ids, desk.listed(f"{BASE}/tickets", overdue="true"))) == ["breached", "passed"]
    assert sorted(names(ids, desk.listed(f"{BASE}/tickets", overdue="false"))) == ["met", "pending"]
    assert names(ids, desk.listed(f"{BASE}/tickets", overdue="true", region="上海")) == ["passed"]
    assert names(ids, desk.listed(f"{BASE}/overdue")) == ["breached", "passed"]  # the oldest deadline first
    assert names(ids, desk.listed(f"{BASE}/overdue", region="上海")) == ["passed"]

    cards = {c["id"]: c["sla"] for c in desk.http.get(f"{BASE}/tickets").json["tickets"]}
    breached = cards[ids["breached"]]
    assert breached["overdue"] and [(c["clock"], c["breached"]) for c in breached["clocks"]] == [
        ("response", True),
        ("resolution", False),
    ]
    assert breached["deadline"] == (desk.started(ids["breached"]) + timedelta(hours=1)).isoformat(
        timespec="milliseconds"
    )
    assert cards[ids["passed"]]["overdue"] and not any(c["breached"] for c in cards[ids["passed"]]["clocks"])
    assert cards[ids["met"]] == {"deadline": None, "overdue": False, "clocks": []}
    assert not cards[ids["pending"]]["overdue"]

    desk.advance(ids["breached"])  # closing it late ends its overdue state
    assert names(ids, desk.listed(f"{BASE}/overdue")) == ["passed"]
    desk.clock.at = desk.started(ids["pending"]) + timedelta(hours=8)
    assert names(ids, desk.listed(f"{BASE}/overdue")) == ["passed", "pending"]  # pending's deadline went by too
    assert desk.http.get(f"{BASE}/tickets", query_string={"overdue": "maybe"}).status_code == 400


def test_sla_compliance_per_region_and_template(desk):
    desk, ids = desk
    figures = desk.http.get(f"{BASE}/dashboard").json
    # met: response and resolution on time; breached: its response missed (a breach is final)
    assert (figures["total"]["sla"], figures["total"]["sla_compliance"]) == ({"on_time": 2, "missed": 1}, 0.6667)
    assert {k: v["sla_compliance"] for k, v in figures["by_region"].items()} == {"上海": 1.0, "北京": 0.0}
    assert {k: v["sla_compliance"] for k, v in figures["by_template"].items()} == {
        "hotline": 0.6667,
        "repair": None,
        "slow": None,
    }

    desk.advance(ids["breached"])  # its resolution is met in time; its response stays missed
    figures = desk.http.get(f"{BASE}/dashboard").json
    assert (figures["total"]["sla"], figures["total"]["sla_compliance"]) == ({"on_time": 3, "missed": 1}, 0.75)
    assert figures["by_region"]["北京"]["sla"] == {"on_time": 1, "missed": 1}


def test_a_rebuilt_projection_equals_the_incremental_one(desk):
    desk, ids = desk
    desk.advance(ids["breached"])
    projector = Projector(desk.app)
    projector.catch_up()
    incremental = projector.store.dump()
    assert {r["id"]: (r["sla"]["on_time"], r["sla"]["missed"]) for r in incremental}[ids["breached"]] == (1, 1)
    projector.rebuild()
    assert projector.store.dump() == incremental

    store = ViewStore(desk.app.recorder.datastore)  # tables of an older shape: dropped, folded again
    with store._cursor(commit=True) as cursor:
        cursor.execute(store._sql("UPDATE {p}view_positions SET position = 1 WHERE name = ?"), (SCHEMA_KEY,))
    store.create_tables()
    assert store.position() == 0 and store.dump() == []
    projector.catch_up()
    assert projector.store.dump() == incremental
    assert names(ids, desk.listed(f"{BASE}/overdue")) == ["passed"]
