"""The process sandbox (流程沙箱) over HTTP, on SQLite and on PostgreSQL: a supervisor changes one
ticket's process; that ticket runs on it, every other ticket and the template stay as they were."""

import pytest

from tests.integration.test_workflow_templates import ADMIN, STAFF, Desk, at
from tests.support.identity import staff as as_staff

LEAD = as_staff("lead")
VISIT = {"key": "visit", "name": "上门复核", "handler": {"kind": "user", "value": "lead"}}


@pytest.fixture
def desk(settings):
    desk = Desk(settings)
    for user, member in (STAFF | {"lead": {"roles": ["supervisor"]}}).items():
        assert desk.http.put(f"/v1/tenants/acme/staff/{user}", json=member, headers=ADMIN).status_code == 200
    assert desk.http.post("/v1/tenants/acme/templates/examples", headers=ADMIN).status_code == 201
    return desk


def change(desk, ticket, status=200, headers=LEAD, **body):
    answer = desk.http.post(f"{ticket}/sandbox", json=body, headers=headers)
    assert answer.status_code == status, answer.json
    return answer.json


def history(desk, ticket):
    return desk.http.get(f"{ticket}/timeline").json["timeline"]


def test_an_inserted_node_is_passed_through_by_that_ticket_only_and_the_template_never_changes(desk):
    published = desk.http.get("/v1/tenants/acme/templates/repair").json
    mine, other = desk.open("repair"), desk.open("repair")
    view = change(
        desk,
        mine,
        op="insert",
        after="triage",
        inserted=VISIT | {"fields": {"editable": ["review_note"]}},
        why="复杂故障，先上门复核",
    )
    assert view["sandbox"][0]["op"] == "insert" and view["template_version"] == 1
    assert at(desk.act(mine, "cs-1", "advance", values={"warranty": "in_warranty"})) == {"visit": "lead"}
    desk.act(mine, "lead", "edit", values={"review_note": "已复核"})
    # The read models show it at the node its sandbox inserted, with what the lead may see there.
    kanban = desk.http.get("/v1/tenants/acme/kanban?template=repair", headers=LEAD).json
    visit = next(c for c in kanban["columns"] if c["node"] == "visit")
    assert (visit["name"], visit["count"], visit["sandbox"]) == ("上门复核", 1, True)
    assert visit["tickets"][0]["values"]["review_note"] == "已复核"
    assert at(desk.act(mine, "lead", "advance")) == {"warranty_repair": "technician-1"}
    assert at(desk.act(other, "cs-1", "advance", values={"warranty": "in_warranty"})) == {
        "warranty_repair": "technician-1"
    }
    assert desk.see(other)["sandbox"] == []

    inserted = next(e for e in history(desk, mine) if e["type"] == "NodeInserted")
    assert (inserted["actor"], inserted["data"]["after"], inserted["data"]["why"]) == (
        "lead",
        "triage",
        "复杂故障，先上门复核",
    )
    assert desk.http.get("/v1/tenants/acme/templates/repair").json == published
    assert desk.http.get("/v1/tenants/acme/templates/repair/versions/1").json == published


def test_a_skipped_node_is_skipped(desk):
    ticket = desk.open("repair")
    view = change(desk, ticket, op="skip", node="quotation")
    assert view["sandbox"] == [{"op": "skip", "node": "quotation"}]
    assert at(desk.act(ticket, "cs-1", "advance", values={"warranty": "out_of_warranty"})) == {
        "review": "role:service_supervisor"
    }
    skipped = next(e for e in history(desk, ticket) if e["type"] == "NodeSkipped")
    assert (skipped["data"]["to"], skipped["data"]["dropped"]) == ("review", ["declined"])


def test_a_handler_override_assigns_the_new_handler_now_or_when_the_ticket_gets_there(desk):
    ticket = desk.open("repair")
    view = change(desk, ticket, op="handler", node="triage", handler={"kind": "user", "value": "lead"}, why="VIP")
    assert view["handler"] == "lead"
    assert view["nodes"][0]["reason"].startswith("流程沙箱：lead 修改了处理规则（VIP）")
    ghost = change(desk, ticket, 400, op="handler", node="triage", handler={"kind": "user", "value": "ghost-999"})
    assert ghost["error"]["details"] == {"handler": "ghost-999", "rule": "handler_exists"}
    transfer = desk.http.post(
        f"{ticket}/actions",
        headers=LEAD,
        json={"action": "transfer", "handler": {"kind": "user", "value": "nobody-xyz"}},
    )
    assert transfer.status_code == 400 and "not in the staff directory" in transfer.json["error"]["message"]
    nobody = change(desk, ticket, 400, op="handler", node="review", handler={"kind": "role", "value": "astronaut"})
    assert nobody["error"]["details"]["rule"] == "handler_exists"
    assert [e["type"] for e in history(desk, ticket)].count("HandlerOverridden") == 1  # the refused changed nothing
    change(desk, ticket, op="handler", node="warranty_repair", handler={"kind": "role", "value": "supervisor"})
    assert at(desk.act(ticket, "lead", "advance", values={"warranty": "in_warranty"})) == {
        "warranty_repair": "role:supervisor"
    }
    kinds = [e["type"] for e in history(desk, ticket)]
    assert kinds.count("HandlerOverridden") == 2 and kinds[kinds.index("HandlerOverridden") + 1] == "Assigned"
    assert at(desk.act(desk.open("repair"), "cs-1", "advance", values={"warranty": "in_warranty"})) == {
        "warranty_repair": "technician-1"
    }


def test_only_a_supervisor_changes_a_process_and_a_broken_change_lists_its_problems(desk):
    ticket = desk.open("repair")
    denied = change(desk, ticket, 403, headers=as_staff("cs-1"), op="skip", node="quotation")["error"]
    assert denied["details"]["rule"] == "sandbox" and "supervisor" in denied["message"]
    change(desk, ticket, 401, headers={}, op="skip", node="quotation")
    broken = change(desk, ticket, 400, op="insert", after="triage", inserted=VISIT | {"key": "review"})["error"]
    assert "node 'review' is defined more than once" in broken["details"]["problems"]
    assert change(desk, ticket, 400, op="skip")["error"]["message"].startswith("say op insert")
    assert change(desk, ticket, 409, op="skip", node="triage")["error"]["code"] == "conflict"
    assert desk.see(ticket)["sandbox"] == [] and desk.see(ticket)["version"] == 1  # only Opened


def test_process_changes_go_out_on_the_ticket_topic_and_fit_their_contract(desk, settings):
    from shared.contracts import validate_envelope
    from shared.persistence import outbox_reader

    ticket = desk.open("repair")
    change(desk, ticket, op="insert", after="triage", inserted=VISIT, why="上门")
    change(desk, ticket, op="skip", node="quotation")
    change(desk, ticket, op="handler", node="triage", handler={"kind": "user", "value": "lead"})
    envelopes = outbox_reader("workflow", settings).read(0, 10_000)
    changed = [validate_envelope(e).data for e in envelopes if e.type == "ticket.process_changed"]
    assert [(c["op"], c["node"], c["by"]) for c in changed] == [
        ("insert", "visit", "lead"),
        ("skip", "quotation", "lead"),
        ("handler", "triage", "lead"),
    ]
    assert changed[0]["after"] == "triage" and changed[1]["dropped"] == ["declined"]
    assert changed[2]["handler"] == {"kind": "user", "value": "lead"}
