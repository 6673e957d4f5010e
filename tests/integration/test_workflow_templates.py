"""The example templates run through workflow's HTTP API, on SQLite and on PostgreSQL: tickets
come from intake's store through the worker, staff act on them over HTTP."""

import pytest

from services.intake import bootstrap as intake
from services.workflow import bootstrap as workflow
from tests.support.identity import SignedIn, admin, open_tenant
from tests.support.identity import staff as as_staff

ADMIN = admin()
STAFF = {
    "boss": {"roles": ["service_supervisor"]},
    "cs-1": {"roles": ["customer_service"], "supervisor": "boss"},
    "d-1": {"roles": ["dispatcher"]},
    "w-1": {"roles": ["warehouse"]},
    "fin-1": {"departments": ["finance"]},
    "technician-1": {"roles": ["technician"], "supervisor": "boss"},  # the default template's pool
    "cashier-01": {},
    "lead": {"roles": ["supervisor"]},
}


class Desk:
    """Intake's store, workflow's worker and workflow's HTTP API for one tenant."""

    def __init__(self, settings):
        open_tenant(settings)
        self.intake = intake.application(settings)
        self.http = SignedIn(workflow.web_app(settings).test_client(), ADMIN)  # an administrator's, by default
        self.worker = workflow.follower(settings)
        self.opened = 0

    def open(self, template: str) -> str:
        self.opened += 1
        accepted = self.intake.submit(
            "acme", "wecom", f"m-{self.opened}", {"wecom_userid": "lisi"}, "报修", template=template
        )
        while self.worker.run_once():
            pass
        return f"/v1/tenants/acme/tickets/{accepted.ticket_id}"

    def act(self, ticket: str, staff: str, action: str, status: int = 200, **body):
        answer = self.http.post(f"{ticket}/actions", json={"action": action, **body}, headers=as_staff(staff))
        assert answer.status_code == status, answer.json
        return answer.json

    def see(self, ticket: str, staff: str | None = None) -> dict:
        answer = self.http.get(ticket, headers=as_staff(staff or "someone-else"))
        assert answer.status_code == 200, answer.json
        return answer.json


def at(view: dict) -> dict[str, str]:
    return {node["key"]: node["handler"] for node in view["nodes"]}


@pytest.fixture
def desk(settings):
    desk = Desk(settings)
    for user, member in STAFF.items():
        assert desk.http.put(f"/v1/tenants/acme/staff/{user}", json=member, headers=ADMIN).status_code == 200
    answer = desk.http.post("/v1/tenants/acme/templates/examples", headers=ADMIN)
    assert answer.status_code == 201 and {t["key"] for t in answer.json["templates"]} == {
        "installation",
        "repair",
        "refund",
    }
    return desk


def test_installation_splits_into_parts_check_and_scheduling_and_joins_before_install(desk):
    ticket = desk.open("installation")
    assert at(desk.see(ticket)) == {"dispatch": "role:dispatcher"}
    view = desk.act(ticket, "d-1", "advance", values={"product_model": "KFR-35"})
    # Nobody has a location: nearest_technician finds nobody, and the node waits in the technicians' queue.
    assert at(view) == {"parts_check": "role:warehouse", "schedule": "queue:technician"}
    assert desk.see(ticket, "w-1")["nodes"][0]["actions"] == ["view", "edit", "advance", "transfer", "claim"]
    desk.act(ticket, "technician-1", "claim", node="schedule")
    view = desk.act(ticket, "technician-1", "advance", values={"appointment": "2025-03-01T09:00+08:00"})
    assert at(view) == {"parts_check": "role:warehouse"}  # the join waits for both branches
    view = desk.act(ticket, "w-1", "advance", values={"parts_status": "ordered"})
    assert at(view) == {"install": "queue:technician"}
    desk.act(ticket, "d-1", "transfer", handler={"kind": "user", "value": "technician-1"})  # a dispatcher hands it on
    closing = desk.http.post(f"{ticket}/close", headers=as_staff("technician-1"))  # not here: 回访 is still ahead
    assert closing.status_code == 403 and closing.json["error"]["details"]["rule"] == "node_actions"
    missing = desk.act(ticket, "technician-1", "advance", 400, values={"serial_number": "SN-0001"})
    assert missing["error"]["details"]["missing"] == ["finish_photos", "signature"]
    desk.act(
        ticket,
        "technician-1",
        "advance",  # the refused step wrote nothing: all again
        values={"serial_number": "SN-0001", "finish_photos": ["att-1"], "signature": ["att-2"]},
    )
    assert desk.act(ticket, "cs-1", "close", 400)["error"]["details"]["missing"] == ["satisfaction"]
    view = desk.act(ticket, "cs-1", "close", values={"satisfaction": 5})
    assert (view["status"], view["node"], view["values"]["serial_number"]) == ("closed", "done", "SN-0001")

    timeline = desk.http.get(f"{ticket}/timeline", headers=ADMIN).json["timeline"]
    kinds = [entry["type"] for entry in timeline]
    assert kinds[0] == "Opened" and kinds[-1] == "Closed" and kinds.count("Assigned") == 4
    assert kinds.count("Unassigned") == 2
    assert all(entry["actor"] and len(entry["at"].split(".")[1]) >= 3 for entry in timeline)
    assert [e["actor"] for e in timeline if e["type"] == "Transitioned"] == [
        "d-1",
        "technician-1",
        "w-1",
        "technician-1",
    ]
    assert all("progress" not in entry["data"] for entry in timeline)

    assert desk.act(ticket, "technician-1", "reopen", 403)["error"]["details"]["rule"] == "handler"
    view = desk.act(ticket, "lead", "reopen")  # a supervisor, to the node the template names, and who did it
    assert (view["status"], at(view)) == ("open", {"install": "technician-1"})


def test_repair_branches_on_warranty_status(desk):
    covered, paid = desk.open("repair"), desk.open("repair")
    view = desk.act(covered, "cs-1", "advance", values={"warranty": "in_warranty"})
    assert at(view) == {"warranty_repair": "technician-1"}
    assert (
        desk.see(covered, "technician-1")["nodes"][0]["reason"] == "technician 中负载最低：technician-1 0/10 单处理中"
    )

    desk.act(paid, "cs-1", "advance", values={"warranty": "out_of_warranty"})
    view = desk.act(paid, "technician-1", "advance", values={"quote": "300", "quote_accepted": "yes"})
    assert at(view) == {"paid_repair": "boss"}  # the supervisor of the previous handler
    desk.act(paid, "boss", "advance", values={"finish_photos": ["att-9"]})
    view = desk.act(paid, "boss", "approve")
    assert (view["status"], view["node"]) == ("closed", "done")
    assert "quote" not in desk.see(covered, "technician-1")["values"]  # hidden at warranty_repair


def test_refund_is_returned_approved_and_rejected_and_hides_the_payment_reference(desk):
    refund = desk.open("refund")
    desk.act(refund, "cs-1", "advance", values={"refund_reason": "商品破损", "refund_amount": "99"})
    view = desk.act(refund, "boss", "return", to="apply")
    assert at(view) == {"apply": "cs-1"}  # back to who handled it
    desk.act(refund, "cs-1", "advance")
    assert at(desk.act(refund, "boss", "approve")) == {"payout": "cashier-01"}
    desk.act(refund, "cashier-01", "edit", values={"payment_reference": "TX-1"})
    assert desk.see(refund, "cashier-01")["values"]["payment_reference"] == "TX-1"
    desk.act(refund, "cashier-01", "return", to="review")
    for viewer in ("boss", None):
        assert "payment_reference" not in desk.see(refund, viewer)["values"]
        assert "TX-1" not in str(desk.see(refund, viewer))
    desk.act(refund, "boss", "approve")
    assert desk.act(refund, "cashier-01", "advance")["node"] == "refunded"

    big = desk.open("refund")
    desk.act(big, "cs-1", "advance", values={"refund_reason": "未发货", "refund_amount": "1500"})
    assert at(desk.act(big, "boss", "approve")) == {"finance_review": "department:finance"}
    view = desk.act(big, "fin-1", "reject", values={"review_note": "无凭证"})
    assert (view["status"], view["node"]) == ("closed", "rejected")


def test_a_denied_action_names_the_rule_that_denied_it(desk):
    refund = desk.open("refund")
    handler = desk.act(refund, "fin-1", "advance", 403, node="apply")["error"]
    assert handler["details"] == {"rule": "handler", "node": "apply", "handler": "role:customer_service"}
    assert "members of role customer_service" in handler["message"]
    assert desk.act(refund, "cs-1", "approve", 403)["error"]["details"]["rule"] == "node_actions"
    fields = desk.act(refund, "cs-1", "edit", 403, values={"review_note": "x"})["error"]["details"]
    assert (fields["rule"], fields["fields"]) == ("field_rules", ["review_note"])
    assert desk.act(refund, "cs-1", "fly", 400)["error"]["code"] == "validation_failed"
    assert desk.http.post(f"{refund}/actions", json={"action": "advance"}, headers={}).status_code == 401


def test_two_actions_on_the_same_version_give_one_success_and_one_conflict(desk):
    refund = desk.open("refund")
    seen = desk.see(refund, "cs-1")["version"]
    desk.act(refund, "cs-1", "edit", values={"refund_amount": "10"}, expected_version=seen)
    stale = desk.act(refund, "cs-1", "cancel", 409, expected_version=seen)["error"]
    assert stale["code"] == "conflict" and desk.see(refund)["status"] == "open"


def test_a_ticket_started_on_v1_finishes_on_v1_after_v2_is_published(desk):
    old = desk.open("refund")
    desk.act(old, "cs-1", "advance", values={"refund_reason": "破损", "refund_amount": "20"})
    v2 = desk.http.get("/v1/tenants/acme/templates/refund", headers=ADMIN).json
    v2["nodes"] = [n for n in v2["nodes"] if n["key"] != "review"]
    v2["nodes"][0]["actions"].remove("transfer")
    v2["transitions"] = [{"from": "apply", "to": "finance_review"}] + [
        t for t in v2["transitions"] if "review" not in (t["from"], t["to"])
    ]
    assert desk.http.put("/v1/tenants/acme/templates/refund/draft", json=v2, headers=ADMIN).status_code == 200
    assert desk.http.post("/v1/tenants/acme/templates/refund/publish", headers=ADMIN).json["version"] == 2

    assert at(desk.act(old, "boss", "approve")) == {"payout": "cashier-01"}  # v1's review node still there
    assert desk.act(old, "cashier-01", "advance", values={"payment_reference": "TX-2"})["template_version"] == 1
    new = desk.open("refund")
    assert desk.see(new)["template_version"] == 2
    assert at(desk.act(new, "cs-1", "advance", values={"refund_reason": "x", "refund_amount": "5"})) == {
        "finance_review": "department:finance"
    }
    assert (
        desk.http.get("/v1/tenants/acme/templates/refund/versions/1", headers=ADMIN).json["nodes"][1]["key"] == "review"
    )


def test_templates_are_drafted_published_with_every_problem_listed_copied_and_listed(desk):
    http, base = desk.http, "/v1/tenants/acme/templates"
    broken = {"key": "broken", "name": "坏模板", "nodes": [{"key": "a", "name": "A", "actions": ["fly"]}]}
    assert http.put(f"{base}/broken/draft", json=broken, headers=ADMIN).status_code == 200
    refused = http.post(f"{base}/broken/publish", headers=ADMIN)
    problems = refused.json["error"]["details"]["problems"]
    assert refused.status_code == 400 and len(problems) >= 3 and any("'fly'" in p for p in problems)
    assert http.put(f"{base}/default/draft", json=broken | {"key": "default"}, headers=ADMIN).status_code == 409

    copied = http.post(f"{base}/default/copy", json={"key": "quick", "name": "快修"}, headers=ADMIN)
    assert copied.status_code == 201 and copied.json["nodes"][0]["handler"] == {"kind": "role", "value": "technician"}
    assert http.post(f"{base}/quick/publish", headers=ADMIN).json["version"] == 1
    variant = http.post(
        f"{base}/repair/copy", json={"key": "repair-gd", "name": "广东维修", "regions": ["广东"]}, headers=ADMIN
    )
    assert variant.json["variant_of"] == "repair"
    listed = {t["key"]: t for t in http.get(base).json["templates"]}
    assert listed["default"]["built_in"] and listed["quick"]["latest_version"] == 1
    assert listed["broken"]["draft"] and listed["broken"]["latest_version"] is None
    assert http.get(f"{base}/nothing").status_code == 404

    unknown = desk.open("no-such-template")  # an unknown key falls back to the default, never nowhere
    assert (desk.see(unknown)["template"], desk.see(unknown)["handler"]) == ("default", "role:technician")


def test_the_staff_directory_is_managed_over_http(desk):
    http, base = desk.http, "/v1/tenants/acme/staff"
    assert http.get(f"{base}/cs-1").json["supervisor"] == "boss"
    assert http.put(f"{base}/boss", json={"supervisor": "cs-1"}, headers=ADMIN).status_code == 400  # a cycle
    assert http.delete(f"{base}/boss", headers=ADMIN).status_code == 409  # still supervises
    assert http.delete(f"{base}/cashier-01", headers=ADMIN).status_code == 204
    assert "cashier-01" not in {m["user"] for m in http.get(base).json["staff"]}


def test_the_staff_directory_goes_public_with_how_notify_reaches_each_member(desk, settings):
    from shared.contracts import validate_envelope
    from shared.persistence import outbox_reader
    from services.workflow.staff import directory_id

    http, base = desk.http, "/v1/tenants/acme/staff"
    saved = http.put(
        f"{base}/d-1",
        json={"roles": ["dispatcher"], "wecom_userid": "ZhangSan", "email": "d1@acme.cn", "notify_by": "email"},
        headers=ADMIN,
    )
    assert saved.status_code == 200 and (saved.json["wecom_userid"], saved.json["notify_by"]) == ("ZhangSan", "email")
    for bad in ({"email": "nope"}, {"notify_by": "pigeon"}, {"notify_by": "email"}, {"wecom_userid": "两 个"}):
        assert http.put(f"{base}/d-1", json=bad, headers=ADMIN).status_code == 400, bad
    assert http.delete(f"{base}/cashier-01", headers=ADMIN).status_code == 204

    staff = [e for e in outbox_reader("workflow", settings).read(0) if e.type == "staff.changed"]
    for envelope in staff:
        validate_envelope(envelope)
    assert {(e.tenant, e.subject) for e in staff} == {("acme", directory_id("acme"))}
    assert staff[-2].data == {
        "user": "d-1",
        "removed": False,
        "name": "",
        "roles": ["dispatcher"],
        "departments": [],
        "supervisor": None,
        "wecom_userid": "ZhangSan",
        "email": "d1@acme.cn",
        "notify_by": "email",
    }
    assert staff[-1].data == {"user": "cashier-01", "removed": True}
    assert staff[0].data["wecom_userid"] is None  # saved without: notify uses the user id


def test_a_member_saved_before_the_directory_went_public_reads_back_and_is_not_published(settings):
    from eventsourcing.utils import get_topic

    from shared.persistence import outbox_reader
    from services.workflow.staff import StaffDirectory

    app = workflow.application(settings)
    directory = StaffDirectory(tenant="acme")
    directory.save_member("old-1", "admin", roles=("technician",))
    stored = [app.mapper.to_stored_event(e) for e in directory.collect_events()]
    v1 = stored[1]  # as version 1 stored it: no tenant, no contact
    state = app.mapper.transcoder.decode(v1.state)
    state.pop("tenant"), state.pop("contact"), state.pop("profile"), state.pop("class_version", None)
    stored[1] = type(v1)(
        v1.originator_id,
        v1.originator_version,
        get_topic(StaffDirectory.MemberSaved),
        app.mapper.transcoder.encode(state),
    )
    app.recorder.insert_events(stored)
    assert app.staff("acme").member("old-1").roles == ("technician",)
    assert app.backfill_outbox() == 0  # of no tenant's: an upgrade does not publish it
    assert outbox_reader("workflow", settings).read(0) == []


def test_every_public_event_fits_its_contract(desk, settings):
    from shared.contracts import validate_envelope
    from shared.persistence import outbox_reader

    refund = desk.open("refund")
    desk.act(refund, "cs-1", "claim")
    desk.act(refund, "cs-1", "transfer", handler={"kind": "role", "value": "customer_service"})
    desk.act(refund, "cs-1", "advance", values={"refund_reason": "破损", "refund_amount": "20"})
    desk.act(refund, "boss", "reject")
    desk.act(refund, "boss", "reopen")
    desk.act(refund, "boss", "reject")
    envelopes = outbox_reader("workflow", settings).read(0)
    for envelope in envelopes:
        validate_envelope(envelope)
    published = [e for e in envelopes if e.type == "template.published"]
    assert sorted((e.tenant, e.data["key"], e.data["version"]) for e in published) == [
        ("acme", "installation", 1),
        ("acme", "refund", 1),
        ("acme", "repair", 1),
    ]
    envelopes = [e for e in envelopes if e.type.startswith("ticket.")]
    assert [e.type.removeprefix("ticket.") for e in envelopes] == [
        "opened",
        "assigned",
        "assigned",
        "transitioned",
        "assigned",
        "closed",
        "transitioned",
        "assigned",
        "closed",
    ]
    reopened = envelopes[6].data
    assert (reopened["action"], reopened["from_nodes"], reopened["to_nodes"]) == ("reopen", ["rejected"], ["review"])


def test_only_administrators_change_a_tenants_set_up(desk):
    for path, method, body in (
        ("/v1/tenants/acme/staff/cs-2", "put", {"roles": ["customer_service"]}),
        ("/v1/tenants/acme/templates/examples", "post", None),
        ("/v1/tenants/acme/templates/default/copy", "post", {"key": "mine", "name": "我的"}),
    ):
        denied = getattr(desk.http, method)(path, json=body, headers=as_staff("cs-1", "customer_service"))
        assert denied.status_code == 403 and denied.json["error"]["details"]["rule"] == "admin", denied.json
    assert desk.http.put("/v1/tenants/acme/staff/root", json={"roles": ["admin"]}, headers=ADMIN).status_code == 200
    assert (
        desk.http.put(
            "/v1/tenants/acme/staff/cs-2", json={"roles": ["customer_service"]}, headers=as_staff("root", "admin")
        ).status_code
        == 200
    )
    assert desk.http.get("/v1/tenants/acme/staff/cs-2", headers=ADMIN).json["roles"] == ["customer_service"]
