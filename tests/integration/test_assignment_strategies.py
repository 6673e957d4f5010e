"""Templates using each assignment strategy, through workflow's HTTP API and worker, on SQLite and
PostgreSQL: who gets the ticket and the reason that says why; load that follows tickets closing;
round robin that carries on after a restart."""

from datetime import datetime, timedelta, timezone, UTC
from zoneinfo import ZoneInfo

import pytest

from services.workflow import bootstrap as workflow
from tests.integration.dispatch_desk import DispatchDesk, flow
from tests.integration.test_workflow_templates import ADMIN
from tests.support.identity import staff as as_staff

HOME = {"lat": 31.2304, "lng": 121.4737, "address": "人民广场"}  # a ticket in central Shanghai


def shift_around(now: datetime, hours: int) -> dict:
    """A shift from `hours` before to `hours` after now, in Shanghai time (past midnight if need be)."""
    local = now.astimezone(ZoneInfo("Asia/Shanghai"))
    start, end = local - timedelta(hours=hours), local + timedelta(hours=hours)
    return {"from": f"{start:%H:%M}", "to": f"{end:%H:%M}"}


@pytest.fixture
def desk(settings):
    desk = DispatchDesk(settings)
    now = datetime.now(UTC)
    away = now + timedelta(hours=12)  # a shift on the other side of the clock
    desk.staff(
        **{
            "d-1": {"roles": ["dispatcher"]},
            "near": {
                "roles": ["technician"],
                "location": {"lat": 31.24, "lng": 121.50},
                "site": "pudong",
                "skills": ["空调"],
                "shifts": [shift_around(away, 3)],
            },
            "far": {
                "roles": ["technician"],
                "location": {"lat": 39.90, "lng": 116.40},
                "site": "beijing",
                "skills": ["冰箱"],
                "shifts": [shift_around(now, 2)],
            },
        }
    )
    for site, where in (("pudong", {"lat": 31.22, "lng": 121.54}), ("beijing", {"lat": 39.9, "lng": 116.4})):
        assert (
            desk.http.put(
                f"/v1/tenants/acme/sites/{site}", json={"name": site, "location": where}, headers=ADMIN
            ).status_code
            == 200
        )
    return desk


def dispatched(desk, rule: str, **values) -> tuple[str, str]:
    desk.publish(flow(rule, rule))
    ticket = desk.created(rule)[0]
    desk.act(ticket, "d-1", "advance", values={"address": HOME, **values})
    return desk.handler(ticket)


def test_each_strategy_assigns_as_expected_and_says_why(desk):
    handler, reason = dispatched(desk, "nearest_technician")
    assert handler == "near" and reason.startswith("距 address 人民广场 最近的 technician：near，2.")
    handler, reason = dispatched(desk, "nearest_site_technician")
    assert handler == "near" and "距 address 人民广场 最近的服务网点：pudong，" in reason
    assert dispatched(desk, "by_skill_technician", skill="冰箱") == (
        "far",
        "技能 冰箱：far 符合条件且负载最低，0/10 单处理中",
    )
    handler, reason = dispatched(desk, "on_duty_technician")
    assert handler == "far" and "（Asia/Shanghai）值班：far（班次" in reason  # near's shift is 12 hours away
    handler, reason = dispatched(desk, "longest_idle_technician")
    assert handler == "near" and reason.startswith("technician 中空闲最久：near（上次派单 ")  # far since
    assert dispatched(desk, "least_loaded_technician") == ("near", "pudong 负载最低：near 3/10 单处理中")
    handler, reason = dispatched(desk, "no_such_rule")
    assert (handler, reason) == (
        "queue:any@pudong",
        "派单规则「no_such_rule」暂不可用：进入待派单队列（any，网点 pudong），等待派单员领取",
    )


def test_the_load_follows_tickets_closing_and_an_absent_handler_falls_back_to_the_backup(desk):
    desk.staff(**{"a": {"roles": ["fitter"], "capacity": 1}, "b": {"roles": ["fitter"], "capacity": 1, "backup": "a"}})
    desk.publish(flow("fit", "least_loaded_fitter", first=True))
    one, two, three = (desk.created("fit")[0] for _ in range(3))
    assert [desk.handler(t)[0] for t in (one, two, three)] == ["a", "b", "queue:fitter"]
    assert (
        desk.handler(three)[1]
        == "派单规则「least_loaded_fitter」没有找到合适的人：进入待派单队列（fitter），等待派单员领取"
    )
    load = {row["user"]: row for row in desk.http.get("/v1/tenants/acme/workload").json["workload"]}
    assert (load["a"]["open"], load["b"]["open"], load["a"]["capacity"]) == (1, 1, 1)

    desk.act(one, "a", "close")
    assert desk.handler(desk.created("fit")[0]) == ("a", "fitter 中负载最低：a 0/1 单处理中")
    desk.act(two, "b", "close")
    desk.staff(b={"roles": ["fitter"], "absent": True, "backup": "a"}, a={"roles": ["fitter"], "capacity": 5})
    desk.publish(
        flow("fit-b", "b_only", first=True)
        | {
            "nodes": [
                {
                    "key": "work",
                    "name": "上门",
                    "handler": {"kind": "user", "value": "b"},
                    "actions": ["view", "advance"],
                },
                {"key": "done", "name": "完成", "kind": "end"},
            ]
        }
    )
    assert desk.handler(desk.created("fit-b")[0]) == ("a", "节点指定处理人 b；但b请假中，由其备岗 a 接手")


def test_round_robin_takes_turns_within_a_batch_and_carries_on_after_a_restart(settings, desk):
    desk.staff(**{u: {"roles": ["installer"]} for u in ("i-1", "i-2", "i-3")})
    desk.publish(flow("rr", "round_robin_installer", first=True))
    batch = desk.created("rr", count=2)
    assert [desk.handler(t)[0] for t in batch] == ["i-1", "i-2"]

    restarted = DispatchDesk(settings)  # new application objects on the same store
    restarted.position = desk.position
    later = restarted.created("rr", count=2)
    assert [restarted.handler(t)[0] for t in later] == ["i-3", "i-1"]
    assert restarted.handler(later[0])[1] == "installer 轮流派单：i-3（接在上一位 i-2 之后；0/10 单处理中）"

    api = workflow.web_app(settings).test_client()  # a staff action's assignment sees the same turn
    desk.publish(flow("rr2", "round_robin_installer"))
    ticket = restarted.created("rr2")[0]
    assert api.post(f"{ticket}/actions", json={"action": "advance"}, headers=as_staff("d-1")).status_code == 200
    assert restarted.handler(ticket)[0] == "i-2"


def test_bad_dispatch_data_gets_a_clear_400(desk):
    bad = desk.http.put("/v1/tenants/acme/staff/x", json={"shifts": [{"from": "9", "to": "18:00"}]}, headers=ADMIN)
    assert bad.status_code == 400 and "HH:MM" in bad.json["error"]["message"]
    bad = desk.http.put("/v1/tenants/acme/staff/x", json={"location": {"lat": 120, "lng": 0}}, headers=ADMIN)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "validation_failed"
    assert (
        desk.http.put("/v1/tenants/acme/time-zone", json={"time_zone": "Nowhere/Land"}, headers=ADMIN).status_code
        == 400
    )
    assert desk.http.put("/v1/tenants/acme/time-zone", json={"time_zone": "Asia/Urumqi"}, headers=ADMIN).json == {
        "time_zone": "Asia/Urumqi"
    }
