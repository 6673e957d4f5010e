"""Assignment strategies (services/workflow/dispatch/): pure, with the load and `now` given."""

from datetime import datetime, timedelta, timezone, UTC
from uuid import uuid4

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from services.workflow.assignment import Assigner, Need
from services.workflow.dispatch.catalogue import strategies
from services.workflow.dispatch.geo import distance_km
from services.workflow.dispatch.least_loaded import LeastLoaded
from services.workflow.dispatch.load import Load
from services.workflow.dispatch.nearest import nearest, nearest_site
from services.workflow.dispatch.on_duty import on_duty
from services.workflow.dispatch.profile import Point, Profile, Shift, Site
from services.workflow.dispatch.longest_idle import longest_idle
from services.workflow.dispatch.round_robin import round_robin
from services.workflow.dispatch.skills import BySkill
from services.workflow.domain import Ticket
from services.workflow.library import default_template
from services.workflow.staff import Directory, Member, StaffDirectory
from services.workflow.templates.model import HandlerRule, Node
from services.workflow.workload import Workload

NOW = datetime(2025, 3, 7, 4, 0, tzinfo=UTC)  # Friday 12:00 in Shanghai
NODE = Node("fix", "维修", handler=HandlerRule("assignment_rule", "x_technician"))


def tech(user: str, **profile) -> Member:
    return Member(user, roles=("technician",), profile=Profile.from_dict(profile))


def need(*members: Member, load: Load | None = None, sites=(), now=NOW, **kw) -> Need:
    directory = Directory({m.user: m for m in members}, {s.key: s for s in sites})
    return Need("acme", NODE, directory, role="technician", load=load or Load(), now=now, **kw)


def test_round_robin_takes_turns_in_user_order_and_skips_who_is_full():
    members = [tech("t1"), tech("t2", capacity=1), tech("t3")]
    load = Load(open={"t2": 1}, turn={"t1": 5})
    chosen = round_robin(need(*members, load=load))
    assert chosen.value == "t3" and "接在上一位 t1 之后" in chosen.reason  # t2 is full
    assert round_robin(need(*members, load=Load(turn={"t3": 1}))).value == "t1"  # wraps round
    assert round_robin(need(*members)).reason.startswith("technician 轮流派单：t1（第一位")


def test_a_bound_assigner_sees_its_own_assignments_in_a_batch():
    assigner = Assigner(strategies()).seeing(Load(), NOW)
    rr = Node("fix", "维修", handler=HandlerRule("assignment_rule", "round_robin_technician"))
    directory = Directory({u: tech(u) for u in ("t1", "t2", "t3")})
    picks = [assigner(Need("acme", rr, directory)).value for _ in range(4)]
    assert picks == ["t1", "t2", "t3", "t1"] and assigner.load.open == {"t1": 2, "t2": 1, "t3": 1}


members_and_loads = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 8)), min_size=1, max_size=8)


@given(members_and_loads)
def test_least_loaded_never_exceeds_capacity_when_someone_has_room(spec):
    members = [tech(f"t{i}", capacity=cap) for i, (cap, _) in enumerate(spec)]
    load = Load(open={f"t{i}": n for i, (_, n) in enumerate(spec)})
    chosen = LeastLoaded()(need(*members, load=load))
    room = [m for m in members if load.of(m.user) < m.profile.capacity]
    if not room:
        assert chosen is None
        return
    picked = next(m for m in members if m.user == chosen.value)
    assert load.of(picked.user) < picked.profile.capacity
    share = lambda m: load.of(m.user) / max(m.profile.capacity, 1)
    assert share(picked) == min(share(m) for m in room)


@given(st.lists(st.integers(0, 5), min_size=2, max_size=2), st.lists(st.integers(0, 5), min_size=1, max_size=3))
def test_overflow_to_the_neighbouring_site_only_at_or_above_the_threshold(home_loads, next_loads):
    sites = [Site("pudong", "浦东站", regions=("上海/浦东",), neighbours=("puxi",)), Site("puxi", "浦西站")]
    members = [tech(f"h{i}", site="pudong", capacity=5) for i in range(len(home_loads))]
    members += [tech(f"n{i}", site="puxi", capacity=5) for i in range(len(next_loads))]
    load = Load(
        open={**{f"h{i}": n for i, n in enumerate(home_loads)}, **{f"n{i}": n for i, n in enumerate(next_loads)}}
    )
    chosen = LeastLoaded(0.8)(need(*members, load=load, sites=sites, region="上海/浦东"))
    saturated = sum(home_loads) / 10 >= 0.8
    if chosen is None:
        assert all(n >= 5 for n in home_loads + next_loads)
    elif chosen.value.startswith("n"):
        assert saturated and "浦东站 已饱和" in chosen.reason
    elif not saturated:
        assert chosen.reason.startswith("浦东站 负载最低：h")


def test_least_loaded_says_where_and_how_full():
    sites = [Site("pudong", "浦东站", regions=("上海/浦东",), neighbours=("puxi",)), Site("puxi", "浦西站")]
    members = [tech("a", site="pudong", capacity=5), tech("b", site="puxi", capacity=5)]
    assert (
        LeastLoaded()(need(*members, load=Load(open={"a": 2}), sites=sites, region="上海/浦东")).reason
        == "浦东站 负载最低：a 2/5 单处理中"
    )
    over = LeastLoaded()(need(*members, load=Load(open={"a": 4}), sites=sites, region="上海/浦东"))
    assert (
        over.value == "b" and over.reason == "浦西站 负载最低，由 浦东站 已饱和（80%） 溢出（阈值 80%）：b 0/5 单处理中"
    )


points = st.tuples(st.floats(-60, 60), st.floats(-179, 179))


@given(points, st.lists(points, min_size=1, max_size=6))
def test_nearest_picks_the_minimum_great_circle_distance(ticket, places):
    members = [tech(f"t{i}", location={"lat": lat, "lng": lng}) for i, (lat, lng) in enumerate(places)]
    where = {"lat": ticket[0], "lng": ticket[1], "address": "x"}
    chosen = nearest(need(*members, values={"address": where}))
    distances = {m.user: distance_km(Point(*ticket), m.profile.location) for m in members}
    assert distances[chosen.value] == min(distances.values())


def test_distances_and_the_nearest_service_point():
    shanghai, beijing = Point(31.2304, 121.4737), Point(39.9042, 116.4074)
    assert 1060 < distance_km(shanghai, beijing) < 1075 and distance_km(shanghai, shanghai) == 0
    sites = [Site("sh", "上海站", location=shanghai), Site("bj", "北京站", location=beijing)]
    members = [tech("s1", site="sh", capacity=3), tech("s2", site="sh"), tech("b1", site="bj")]
    chosen = nearest_site(
        need(
            *members,
            sites=sites,
            load=Load(open={"s1": 1}),
            values={"addr": {"lat": 31.3, "lng": 121.5, "address": "宝山"}},
        )
    )
    assert chosen.value == "s2" and chosen.reason.startswith("距 addr 宝山 最近的服务网点：上海站，8.")
    assert nearest(need(*members, values={})) is None  # no location on the ticket: the rule finds nobody


def test_on_duty_follows_night_shifts_in_the_tenant_time_zone():
    night = tech("night", shifts=[{"from": "22:00", "to": "06:00", "days": [5]}])  # Friday nights
    day = tech("day", shifts=[{"from": "09:00", "to": "18:00"}])
    shanghai = lambda text: datetime.fromisoformat(text + "+08:00")
    assert on_duty(need(night, day, now=shanghai("2025-03-07T12:00"))).value == "day"
    late = on_duty(need(night, day, now=shanghai("2025-03-07T23:30")))
    assert late.value == "night" and late.reason.startswith(
        "周五 23:30（Asia/Shanghai）值班：night（班次 22:00–06:00）"
    )
    assert on_duty(need(night, day, now=shanghai("2025-03-08T03:00"))).value == "night"  # Friday's shift, Saturday
    assert on_duty(need(night, day, now=shanghai("2025-03-07T03:00"))) is None  # Thursday night: not theirs
    assert Shift.from_dict({"from": "22:00", "to": "06:00"}).covers(datetime(2025, 1, 1, 5, 59))


def test_longest_idle_prefers_never_assigned_then_the_earliest():
    members = [tech("a"), tech("b"), tech("c")]
    load = Load(last={"a": NOW - timedelta(hours=1), "b": NOW - timedelta(hours=3)})
    assert longest_idle(need(*members, load=load)).value == "c"
    chosen = longest_idle(need(*members[:2], load=load))
    assert chosen.value == "b" and "上次派单 2025-03-07T01:00:00+00:00" in chosen.reason


def test_by_skill_and_region():
    members = [
        tech("a", skills=["空调"], regions=["上海"]),
        tech("b", skills=["空调", "冰箱"], regions=["北京"]),
        tech("c", skills=["冰箱"]),
    ]
    chosen = BySkill()(need(*members, values={"skill": "空调"}, region="上海"))
    assert chosen.value == "a" and chosen.reason.startswith("技能 空调，区域 上海：a 符合条件")
    assert BySkill()(need(*members, values={"skill": ["冰箱"]}, region="上海")).value == "c"
    assert BySkill()(need(*members, values={"skill": "洗衣机"}, region="上海")) is None


def test_an_absent_or_full_handler_falls_back_to_their_backup():
    named = Node("fix", "维修", handler=HandlerRule("user", "a"))
    directory = Directory(
        {"a": tech("a", absent=True, backup="b"), "b": tech("b", capacity=1, backup="c"), "c": tech("c", backup="a")}
    )
    chosen = Assigner().seeing(Load(), NOW)(Need("acme", named, directory))
    assert (chosen.value, chosen.reason) == ("b", "节点指定处理人 a；但a请假中，由其备岗 b 接手")
    chosen = Assigner().seeing(Load(open={"b": 1}), NOW)(Need("acme", named, directory))
    assert chosen.value == "c" and chosen.reason.endswith("b已满负荷（1/1 单处理中），由其备岗 c 接手")


def test_the_load_is_folded_from_ticket_events_and_follows_closing():
    template, assigner = default_template("t1"), Assigner()
    tickets = [Ticket.open(uuid4(), "acme", template, {}, "d", "wecom", assigner) for _ in range(3)]
    workload = Workload()
    for event in (e for t in tickets for e in t.collect_events()):
        workload.apply(event)
    assert workload.load("acme").open == {"t1": 3}
    staff = Directory({"t1": Member("t1"), "t2": Member("t2")})
    tickets[0].act(template, "transfer", "t1", assigner, staff, handler={"kind": "user", "value": "t2"})
    tickets[1].act(template, "close", "t1", assigner)
    for event in (e for t in tickets for e in t.collect_events()):
        workload.apply(event)
    load = workload.load("acme")
    assert load.open == {"t1": 1, "t2": 1} and load.turn["t2"] > load.turn["t1"]
    assert workload.load("other").open == {}


def test_members_saved_before_profiles_still_load_and_profiles_are_checked():
    directory = StaffDirectory(tenant="acme")
    directory.save_member("a", "admin", roles=("technician",))
    events = directory.collect_events()
    events[-1].__dict__.pop("profile")  # as recorded before assignment strategies
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed.members["a"].profile == Profile()
    from shared.errors import Invalid

    for bad in ({"capacity": -1}, {"shifts": [{"from": "25:00", "to": "06:00"}]}, {"location": {"lat": 99, "lng": 0}}):
        with pytest.raises(Invalid):
            Profile.from_dict(bad)
    with pytest.raises(Invalid, match="own backup"):
        directory.save_member("a", "admin", profile=Profile(backup="a"))
    with pytest.raises(Invalid, match="time zone"):
        directory.set_time_zone("Mars/Olympus", "admin")
