"""Settlement on the real platform (`scrm run`, every service its own process): a ticket through the
repair template with parts and labour; the technician's earnings visible before it closes; the
statement after; a reopen (reversal), more work, a second close (a new statement)."""

import pytest
import requests

from tests.e2e.flow import FINANCE, load_settlement_examples, settlement_get
from tests.e2e.test_workflow_templates import ChatDesk
from tests.integration import test_workflow_templates as flows
from tests.support.platform import Platform
from deploy.devservers import wait_for
from tests.support.identity import staff as as_staff
from tests.support.wecom import scrm, set_up

pytestmark = pytest.mark.e2e

TECHNICIAN = as_staff("technician-1")


def test_a_repair_settles_with_earnings_before_close_a_statement_a_reversal_and_a_new_statement(tmp_path):
    with Platform(tmp_path / "data") as platform:
        set_up(platform)
        scrm(platform, "route", "acme", "--channel", "wecom", "--keyword", "报修", "--template", "repair")
        desk = ChatDesk(platform)
        for user, member in flows.STAFF.items():
            assert desk.http.put(f"/v1/tenants/acme/staff/{user}", json=member, headers=flows.ADMIN).status_code == 200
        assert desk.http.post("/v1/tenants/acme/templates/examples", headers=flows.ADMIN).status_code == 201
        load_settlement_examples(platform)
        registered = requests.put(
            f"{platform.urls['settlement']}/v1/tenants/acme/technicians/technician-1",
            json={"mode": "direct", "warehouse": "WH-SH"},
            headers=FINANCE,
            timeout=10,
        )
        assert registered.status_code == 200, registered.text

        ticket = desk.open("repair")
        ticket_id = ticket.rsplit("/", 1)[1]
        earnings = f"/v1/tenants/acme/tickets/{ticket_id}/earnings"
        desk.act(ticket, "cs-1", "advance", values={"warranty": "in_warranty"})  # to technician-1
        for what, items in (
            ("parts", [{"code": "P-FILTER", "quantity": "2"}]),
            ("labour", [{"code": "L-REPAIR", "quantity": "1"}]),
        ):
            assert desk.http.post(f"{ticket}/{what}", json={"items": items}, headers=TECHNICIAN).status_code == 201

        def earned(count: int, path: str = earnings):
            answer = settlement_get(platform, path, TECHNICIAN)
            return answer.json() if answer.status_code == 200 and _lines(answer.json()) >= count else None

        before_close = wait_for(lambda: earned(2), 30, interval=0.2, message="no earnings before close")
        # the example terms: 5 % of 2 × 35.00 and 60 % of 200.00
        assert (before_close["status"], before_close["provisional"]["payout"]) == ("open", "123.50")

        desk.act(ticket, "technician-1", "advance", values={"finish_photos": ["att-1"]})  # to review (boss)
        closed = desk.act(ticket, "boss", "approve")
        assert closed["status"] == "closed"
        path = f"/v1/tenants/acme/tickets/{ticket_id}/statement"
        statement = wait_for(
            lambda: (r := settlement_get(platform, path, FINANCE)).status_code == 200 and r.json(),
            30,
            interval=0.2,
            message="no statement",
        )
        assert (statement["net"], statement["tax"], statement["gross"]) == ("270.00", "21.10", "291.10")
        assert [(p["technician"], p["total"]) for p in statement["payouts"]] == [("technician-1", "123.50")]  # not boss

        reopened = desk.act(ticket, "boss", "reopen")  # back to review
        assert reopened["status"] == "open"
        desk.act(ticket, "boss", "reject")  # back to technician-1 at warranty_repair
        assert (
            desk.http.post(
                f"{ticket}/labour", json={"items": [{"code": "L-VISIT", "quantity": "1"}]}, headers=TECHNICIAN
            ).status_code
            == 201
        )
        desk.act(ticket, "technician-1", "advance", values={"finish_photos": ["att-1"]})
        desk.act(ticket, "boss", "approve")

        def settled():
            found = settlement_get(platform, earnings, TECHNICIAN).json()
            return found if len(found["settled"]) == 3 else None

        after = wait_for(settled, 30, interval=0.2, message="no second statement")
        assert [(s["kind"], s["payout"]) for s in after["settled"]] == [
            ("statement", "123.50"),
            ("reversal", "-123.50"),
            ("statement", "153.50"),
        ]  # + 60 % of 50.00
        assert after["settled_total"] == "153.50"
        ledger = settlement_get(platform, f"/v1/tenants/acme/tickets/{ticket_id}/settlement", FINANCE).json()
        assert [d["gross"] for d in ledger["statements"]] == ["291.10", "-291.10", "344.10"]

        stock = wait_for(lambda: _level(platform, "P-FILTER") == "98", 30, interval=0.2, message="stock never moved")
        assert stock
        unknown = {"items": [{"code": "P-NOPE", "quantity": "1"}]}  # on a closed ticket: 422 once learned, 409 before
        refused = wait_for(
            lambda: (
                (a := desk.http.post(f"{ticket}/parts", json=unknown, headers=TECHNICIAN)).status_code == 422 and a.json
            ),
            30,
            interval=0.2,
            message="workflow never refused a code outside the catalogue",
        )
        assert refused["error"]["details"]["codes"] == ["P-NOPE"]


def _lines(earnings: dict) -> int:
    return len((earnings.get("provisional") or {}).get("lines", []))


def _level(platform, code: str) -> str | None:
    answer = settlement_get(platform, "/v1/tenants/acme/warehouses/WH-SH/stock", FINANCE)
    return next((p["level"] for p in answer.json()["parts"] if p["code"] == code), None)
