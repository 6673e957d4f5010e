"""Read models through workflow's HTTP API on SQLite and PostgreSQL, checked against a known set of
tickets: list filters, kanban, my tickets, dashboard figures, hidden fields; and the projection
rebuilt from scratch (scrm workflow rebuild-views) equals the one kept up to date event by event, and
one stopped midway leaves the views as they were."""

from datetime import datetime
from uuid import uuid4

import pytest
from click.testing import CliRunner

from services.cli import cli
from shared.merges import CustomerMerges
from services.workflow import bootstrap as workflow
from services.workflow.readmodels import projector as projection
from services.workflow.readmodels.projector import Projector
from tests.integration.dispatch_desk import DispatchDesk, flow
from tests.support.identity import staff as as_staff

BASE = "/v1/tenants/acme"


@pytest.fixture
def known(settings):
    """a1 (上海, closed), a2 (上海, at work), b1 (北京, at triage) on svc; c1 (上海, at work) on quick."""
    desk = DispatchDesk(settings)
    desk.staff(**{"d-1": {"roles": ["dispatcher"]}, "t-1": {"roles": ["technician"]}, "t-2": {"roles": ["technician"]}})
    desk.publish(flow("svc", "round_robin_technician"))
    desk.publish(flow("quick", "round_robin_technician", first=True))
    a1, a2 = (
        desk.created("svc", region="上海", customer="lisi")[0],
        desk.created("svc", region="上海", customer="wang")[0],
    )
    b1 = desk.created("svc", region="北京", customer="lisi")[0]
    desk.act(a1, "d-1", "advance", values={"secret": "机密-1"})
    desk.act(a1, "t-1", "advance")
    desk.act(a2, "d-1", "advance", values={"secret": "机密-2", "skill": "空调"})
    c1 = desk.created("quick", region="上海", customer="zhao")[0]
    ids = {name: t.rsplit("/", 1)[1] for name, t in dict(a1=a1, a2=a2, b1=b1, c1=c1).items()}
    return desk, ids


def listed(desk, known_ids, path=f"{BASE}/tickets", staff=None, **query):
    answer = desk.http.get(path, query_string=query, headers=as_staff(staff or "someone-else"))
    assert answer.status_code == 200, answer.json
    names = {v: k for k, v in known_ids.items()}
    return sorted(names[t["id"]] for t in answer.json["tickets"]), answer


def test_the_list_filters_by_status_node_handler_region_template_and_customer(known):
    desk, ids = known
    assert listed(desk, ids)[0] == ["a1", "a2", "b1", "c1"]
    for query, expected in [
        ({"status": "closed"}, ["a1"]),
        ({"status": "open"}, ["a2", "b1", "c1"]),
        ({"node": "triage"}, ["b1"]),
        ({"node": "work"}, ["a2", "c1"]),
        ({"handler": "t-2"}, ["a2"]),
        ({"handler": "t-1"}, ["c1"]),
        ({"handler": "role:dispatcher"}, ["b1"]),
        ({"region": "上海"}, ["a1", "a2", "c1"]),
        ({"template": "quick"}, ["c1"]),
        ({"customer": "lisi"}, ["a1", "b1"]),
        ({"region": "上海", "template": "svc", "status": "open"}, ["a2"]),
    ]:
        assert listed(desk, ids, **query)[0] == expected, query
    _, answer = listed(desk, ids, limit=2)
    assert answer.json["total"] == 4 and len(answer.json["tickets"]) == 2
    assert listed(desk, ids, created_from="2000-01-01T00:00:00+08:00")[0] == ["a1", "a2", "b1", "c1"]
    assert listed(desk, ids, created_to="2000-01-01T00:00:00Z")[0] == []
    for bad in ({"status": "lost"}, {"limit": 0}, {"created_from": "yesterday"}, {"colour": "red"}):
        answer = desk.http.get(f"{BASE}/tickets", query_string=bad)
        assert answer.status_code == 400 and answer.json["error"]["code"] == "validation_failed"
        assert set(answer.json["error"]["details"]["fields"]) == set(bad)  # a filter that is not one too


def test_hidden_fields_never_appear_in_lists(known):
    desk, ids = known
    for staff in (None, "t-2", "t-1", "d-1"):  # a card shows what the ticket's own view shows that viewer
        answer = desk.http.get(f"{BASE}/tickets", headers=as_staff(staff or "someone-else"))
        for card in answer.json["tickets"]:
            assert card["values"] == desk.see(f"{BASE}/tickets/{card['id']}", staff)["values"]
        assert "机密-2" not in answer.get_data(as_text=True)  # hidden at work, where a2 is
    mine = desk.http.get(f"{BASE}/my-tickets", headers=as_staff("t-2")).json["tickets"]
    assert mine[0]["values"] == {"address": None, "skill": "空调"} and mine[0]["handlers"] == {"work": "t-2"}
    triage = desk.http.get(f"{BASE}/tickets", query_string={"node": "triage"}, headers=as_staff("d-1"))
    assert "secret" in triage.json["tickets"][0]["values"]  # the dispatcher handles triage, which shows it


def test_kanban_and_my_tickets(known):
    desk, ids = known
    board = desk.http.get(f"{BASE}/kanban", query_string={"template": "svc"}).json
    names = {v: k for k, v in ids.items()}
    assert [(c["node"], c["count"], [names[t["id"]] for t in c["tickets"]]) for c in board["columns"]] == [
        ("triage", 1, ["b1"]),
        ("work", 1, ["a2"]),
    ]
    assert desk.http.get(f"{BASE}/kanban").status_code == 400
    assert desk.http.get(f"{BASE}/kanban", query_string={"template": "nope"}).status_code == 404
    assert listed(desk, ids, f"{BASE}/my-tickets", staff="d-1")[0] == ["b1"]  # through the dispatcher pool
    assert listed(desk, ids, f"{BASE}/my-tickets", staff="t-1")[0] == ["c1"]  # a1 is closed
    assert listed(desk, ids, f"{BASE}/my-tickets", staff="t-2", region="北京")[0] == []
    assert desk.http.get(f"{BASE}/my-tickets", headers={}).status_code == 401


def test_dashboard_figures_per_region_and_template(known):
    desk, ids = known
    figures = desk.http.get(f"{BASE}/dashboard").json
    history = desk.http.get(f"{BASE}/tickets/{ids['a1']}/timeline").json["timeline"]
    took = (datetime.fromisoformat(history[-1]["at"]) - datetime.fromisoformat(history[0]["at"])).total_seconds()
    assert history[-1]["type"] == "Closed" and took > 0
    total = figures["total"]
    assert (total["created"], total["completed"], total["open"], total["completion_rate"]) == (4, 1, 3, 0.25)
    assert total["duration_seconds"] == {"p50": round(took, 3), "p90": round(took, 3), "p95": round(took, 3)}
    assert {k: (v["created"], v["completed"], v["completion_rate"]) for k, v in figures["by_region"].items()} == {
        "上海": (3, 1, 0.3333),
        "北京": (1, 0, 0.0),
    }
    assert {k: (v["created"], v["completed"]) for k, v in figures["by_template"].items()} == {
        "svc": (3, 1),
        "quick": (1, 0),
    }
    assert figures["by_template"]["quick"]["duration_seconds"]["p50"] is None
    assert (
        desk.http.get(f"{BASE}/dashboard", query_string={"created_to": "2000-01-01T00:00:00Z"}).json["total"]["created"]
        == 0
    )


def test_the_rebuilt_projection_equals_the_incremental_one(known, settings, monkeypatch):
    desk, ids = known
    desk.act(f"{BASE}/tickets/{ids['a1']}", "t-1", "reopen")
    desk.act(f"{BASE}/tickets/{ids['c1']}", "t-1", "transfer", handler={"kind": "user", "value": "t-2"})
    app = workflow.application(settings)
    projector = Projector(app)
    projector.catch_up()
    incremental = projector.store.dump()
    assert len(incremental) == 4 and {r["status"] for r in incremental} == {"open"}

    for key in ("SCRM_DATA_DIR", "SCRM_TRANSPORT", "SCRM_KAFKA_BOOTSTRAP", "SCRM_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)  # the CLI sets them for its children; put back after
    url = ["--database-url", settings.database_url] if settings.database_url else []
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), *url, "workflow", "rebuild-views"])
    assert result.exit_code == 0, result.output
    assert "rebuilt from" in result.output
    assert projector.store.dump() == incremental
    assert listed(desk, ids, handler="t-2")[0] == ["a2", "c1"]


def test_a_merged_customers_tickets_are_listed_under_the_one_who_stays(settings):
    """Issue 14: intake merged two customers (customer.merged), but workflow's lists knew each ticket by the
    customer id it was opened with. Whichever event comes first, a list by either id finds both customers'
    tickets, and each card shows the surviving id."""
    desk = DispatchDesk(settings)
    desk.staff(**{"t-1": {"roles": ["technician"]}})
    desk.publish(flow("quick", "round_robin_technician", first=True))
    stays, goes, other = (str(uuid4()) for _ in range(3))
    names = {}
    for name, customer, wecom_id in (("mine", stays, "wm-1"), ("theirs", goes, "o-1"), ("else", other, "x")):
        names[desk.created("quick", customer=wecom_id, customer_id=customer)[0].rsplit("/", 1)[1]] = name
    desk.merged(goes, into=stays, identities={"wecom_userid": ["wm-1", "o-1"]})
    names[desk.created("quick", customer="o-1", customer_id=goes)[0].rsplit("/", 1)[1]] = "later"  # a stale id

    for wanted in (stays, goes):
        answer = desk.http.get(f"{BASE}/tickets", query_string={"customer": wanted}, headers=as_staff("t-1"))
        cards = answer.json["tickets"]
        assert sorted(names[c["id"]] for c in cards) == ["later", "mine", "theirs"] and answer.json["total"] == 3
        assert {c["customer"]["customer_id"] for c in cards} == {stays}
        assert {desk.see(f"{BASE}/tickets/{c['id']}")["customer"]["customer_id"] for c in cards} == {stays}
    alone = desk.http.get(f"{BASE}/tickets", query_string={"customer": other}, headers=as_staff("t-1")).json
    assert [names[c["id"]] for c in alone["tickets"]] == ["else"]
    desk.merged(goes, into=stays, identities={"wecom_userid": ["wm-1", "o-1"]})  # the same event again
    events = desk.worker.app.repository.get(CustomerMerges.create_id("acme")).version
    assert events == 2  # created, learned once


def test_a_vip_customers_ticket_is_vip_in_every_list(settings):
    """Issue 14: the customer's VIP flag (intake's, in ticket.created's customer block) makes the ticket vip."""
    desk = DispatchDesk(settings)
    desk.staff(**{"t-1": {"roles": ["technician"]}})
    desk.publish(flow("quick", "round_robin_technician", first=True))
    (plain,) = desk.created("quick", customer="a", customer_id=str(uuid4()))
    (vip,) = desk.created("quick", customer="b", customer_id=str(uuid4()), flags=["vip"])
    cards = desk.http.get(f"{BASE}/tickets", headers=as_staff("t-1")).json["tickets"]
    assert [(c["id"], c["priority"]) for c in cards] == [
        (vip.rsplit("/", 1)[1], "vip"),
        (plain.rsplit("/", 1)[1], "normal"),
    ]
    assert cards[0]["customer"]["flags"] == ["vip"]


def test_a_rebuild_killed_midway_leaves_the_views_as_they_were_and_a_rerun_completes_them(known, settings, monkeypatch):
    desk, ids = known
    app = workflow.application(settings)
    projector = Projector(app)
    projector.catch_up()
    live, position = projector.store.dump(), projector.store.position()
    monkeypatch.setattr(projection, "REBUILD_PAGE", 2)  # pages of two events,
    monkeypatch.setattr(projection, "KEEP", 2)  # and rows written to the fresh tables as it goes

    class Killed(BaseException):  # like SIGKILL: nothing in the process gets to handle it
        pass

    def killed_three_quarters_through(at: int) -> None:
        if at >= position * 3 // 4:
            raise Killed()

    with pytest.raises(Killed):
        projector.rebuild(killed_three_quarters_through)
    assert projector.store.rebuilt_rows(ids.values())  # some rows were in the fresh tables
    assert projector.store.dump() == live and projector.store.position() == position
    assert listed(desk, ids, handler="t-2")[0] == ["a2"]  # the views serve as before

    desk.act(f"{BASE}/tickets/{ids['a2']}", "t-2", "advance")  # the live projection goes on meanwhile
    projector.catch_up()
    live = projector.store.dump()
    assert projector.rebuild() == app.recorder.max_notification_id()
    assert projector.store.dump() == live
    assert listed(desk, ids, status="closed")[0] == ["a1", "a2"]
    desk.act(f"{BASE}/tickets/{ids['c1']}", "t-1", "advance")  # and after the swap, from its position
    assert listed(desk, ids, status="closed")[0] == ["a1", "a2", "c1"]
