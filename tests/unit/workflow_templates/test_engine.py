from dataclasses import replace
from decimal import Decimal

import pytest

from shared.errors import Conflict, Invalid, NotAllowed
from services.workflow.templates.engine import act, allowed_actions, reopen, start
from services.workflow.ticket_view import visible_values
from services.workflow.templates.examples import load
from services.workflow.templates.model import Reopening
from services.workflow.templates.progress import Progress
from tests.unit.workflow_templates.builders import auto, straight, task, template

CUSTOMER = {
    "customer": "C-1",
    "contact_phone": "13800138000",
    "address": {"lat": 31.2, "lng": 121.4, "address": "上海"},
}


def nodes(progress):
    return sorted(t.node for t in progress.tokens)


def what(happened):
    return [(h.what, h.node) for h in happened]


def installation_at_install():
    t = load("installation")
    p, _ = start(t, CUSTOMER | {"product_model": "KFR-35"})
    p, _ = act(t, p, "advance", "dispatch")
    p, _ = act(t, p, "advance", "parts_check", values={"parts_status": "complete"})
    p, _ = act(t, p, "advance", "schedule", values={"appointment": "2025-03-01T09:00+08:00"})
    return t, p


def test_installation_splits_into_parts_check_and_scheduling_and_joins_before_install():
    t = load("installation")
    p, happened = start(t, CUSTOMER | {"product_model": "KFR-35"})
    assert nodes(p) == ["dispatch"] and what(happened) == [("entered", "dispatch")]
    p, happened = act(t, p, "advance", "dispatch")
    assert nodes(p) == ["parts_check", "schedule"]
    assert what(happened) == [
        ("left", "dispatch"),
        ("entered", "prepare"),
        ("split", "prepare"),
        ("entered", "parts_check"),
        ("entered", "schedule"),
    ]
    p, happened = act(t, p, "advance", "schedule", values={"appointment": "2025-03-01T09:00+08:00"})
    assert nodes(p) == ["parts_check"] and ("joined", "ready") not in what(happened)  # still waiting
    p, happened = act(t, p, "advance", "parts_check", values={"parts_status": "ordered"})
    assert what(happened)[-2:] == [("joined", "ready"), ("entered", "install")]
    assert nodes(p) == ["install"] and p.regions == ()
    assert p.tokens[0].id == "t1"  # the ticket's own token resumes after the join


def test_installation_needs_its_photos_and_signature_to_leave_install_then_closes_at_the_end():
    t, p = installation_at_install()
    with pytest.raises(Invalid) as error:
        act(t, p, "advance", "install", values={"serial_number": "sn-0001"})
    assert error.value.details["missing"] == ["finish_photos", "signature"]
    assert "完工照片, 客户签名" in error.value.message
    p, _ = act(
        t,
        p,
        "advance",
        "install",
        values={"finish_photos": ["att-1"], "signature": ["att-2"], "serial_number": "sn-0001"},
    )
    p, happened = act(t, p, "advance", "visit", values={"satisfaction": 5})
    assert p.status == "closed" and what(happened)[-2:] == [("ended", "done"), ("closed", "done")]
    assert allowed_actions(t, p, "done") == ("view", "reopen")
    p, happened = act(t, p, "reopen", "done")  # the template names where a reopen goes: install again
    assert (p.status, nodes(p)) == ("open", ["install"])
    assert what(happened) == [("reopened", "done"), ("left", "done"), ("entered", "install")]
    assert p.tokens[0].path == ("dispatch", "install")  # its latest visit of install, as a return goes


def test_a_close_obeys_the_nodes_field_rules_and_never_skips_the_follow_up():
    shipped, p = installation_at_install()
    with pytest.raises(NotAllowed, match="'close' is not allowed") as refused:  # the template allows no close here
        act(shipped, p, "close", "install")
    assert refused.value.details["rule"] == "node_actions"
    nodes_ = [replace(n, actions=n.actions + ("close",)) if n.key == "install" else n for n in shipped.nodes]
    lenient = replace(shipped, nodes=tuple(nodes_))  # a template that does allow it, at a node before 回访
    with pytest.raises(Invalid) as missing:
        act(lenient, p, "close", "install")
    assert missing.value.details["missing"] == ["serial_number", "finish_photos", "signature"]
    with pytest.raises(NotAllowed, match="would skip '回访'"):
        act(
            lenient, p, "close", "install", values={"serial_number": "sn-1", "finish_photos": ["a"], "signature": ["b"]}
        )
    p, _ = act(
        shipped, p, "advance", "install", values={"serial_number": "sn-1", "finish_photos": ["a"], "signature": ["b"]}
    )
    with pytest.raises(Invalid, match="满意度"):
        act(shipped, p, "close", "visit")
    closed, happened = act(shipped, p, "close", "visit", values={"satisfaction": 4})
    assert (closed.status, nodes(closed)) == ("closed", ["done"]) and closed.values["satisfaction"] == 4
    assert what(happened)[-2:] == [("ended", "done"), ("closed", "done")]


def test_a_ticket_closed_at_a_task_reopens_there_or_where_the_template_names():
    t = straight("a", "b")
    p = act(t, start(t).progress, "advance", "a").progress
    closed = act(t, p, "close", "b").progress
    assert (closed.status, nodes(closed)) == ("closed", ["end"])
    at_task = replace(closed, tokens=(replace(closed.tokens[0], node="b"),))  # closed at a task (before issue 14)
    assert nodes(reopen(t, at_task, "b").progress) == ["b"]
    named = replace(t, reopen=Reopening(to="a"))
    back, happened = reopen(named, at_task, "b")
    assert (back.status, nodes(back), back.tokens[0].path) == ("open", ["a"], ("a",))
    assert what(happened) == [("reopened", "b"), ("left", "b"), ("entered", "a")]
    with pytest.raises(Conflict, match="nothing to reopen"):
        reopen(t, p, "b")


def test_a_return_goes_back_only_to_a_node_this_ticket_passed():
    t, p = installation_at_install()
    with pytest.raises(Invalid, match="passed: dispatch"):
        act(t, p, "return", "install", to="visit")
    p, happened = act(t, p, "return", "install", to="dispatch")
    assert nodes(p) == ["dispatch"] and ("returned", "install") in what(happened)
    assert p.tokens[0].path == ("dispatch",)


def test_a_branch_cannot_return_past_its_split():
    t = template(
        [task("a"), auto("s", "split"), task("x"), task("y"), auto("j", "join"), auto("end", "end")],
        [("a", "s"), ("s", "x"), ("s", "y"), ("x", "j"), ("y", "j"), ("j", "end")],
    )
    p, _ = act(t, start(t).progress, "advance", "a")
    with pytest.raises(Invalid, match="none yet"):
        act(t, p, "return", "x", to="a")


def test_repair_branches_on_warranty_status():
    t = load("repair")
    form = CUSTOMER | {"serial_number": "SN-1234", "fault_description": "不制冷"}
    p, _ = start(t, form)
    covered, _ = act(t, p, "advance", "triage", values={"warranty": "in_warranty"})
    paid, _ = act(t, p, "advance", "triage", values={"warranty": "out_of_warranty"})
    assert nodes(covered) == ["warranty_repair"] and nodes(paid) == ["quotation"]
    assert "quote" not in visible_values(t, covered.values, ["warranty_repair"], union=True)
    declined, _ = act(t, paid, "advance", "quotation", values={"quote": "300", "quote_accepted": "no"})
    assert (declined.status, nodes(declined)) == ("closed", ["declined"])
    p, _ = act(t, paid, "advance", "quotation", values={"quote": "300", "quote_accepted": "yes"})
    with pytest.raises(NotAllowed, match=r"quote \(read-only\)"):
        act(t, p, "edit", "paid_repair", values={"quote": "1"})
    p, _ = act(t, p, "advance", "paid_repair", values={"finish_photos": ["att-9"]})
    rejected, _ = act(t, p, "reject", "review", values={"review_note": "照片不清晰"})
    assert nodes(rejected) == ["paid_repair"] and rejected.values["quote"] == Decimal("300.00")
    done, happened = act(t, p, "approve", "review")
    assert done.status == "closed" and what(happened)[0] == ("approved", "review")


def test_refund_goes_through_finance_above_1000_and_can_be_returned_or_rejected():
    t = load("refund")
    p, _ = start(t, {"customer": "C-9", "order_number": "JD12345678", "refund_amount": "1500"})
    p, _ = act(t, p, "advance", "apply", values={"refund_reason": "商品破损"})
    back, _ = act(t, p, "return", "review", to="apply")
    assert nodes(back) == ["apply"]
    big, _ = act(t, p, "approve", "review")
    assert nodes(big) == ["finance_review"]
    p2, _ = act(t, back, "advance", "apply", values={"refund_amount": "99.00"})
    assert nodes(act(t, p2, "approve", "review").progress) == ["payout"]
    rejected = act(t, big, "reject", "finance_review").progress
    assert (rejected.status, nodes(rejected)) == ("closed", ["rejected"])
    assert "payment_reference" not in visible_values(t, big.values, ["finance_review"], union=True)
    with pytest.raises(NotAllowed, match="'reopen' is not allowed"):
        act(
            t,
            act(
                t, act(t, p2, "approve", "review").progress, "advance", "payout", values={"payment_reference": "TX1"}
            ).progress,
            "reopen",
            "refunded",
        )


def test_actions_the_node_does_not_allow_are_refused_with_the_rule():
    t = load("refund")
    p = start(t, {"customer": "C-9", "order_number": "JD12345678", "refund_amount": "10"}).progress
    with pytest.raises(NotAllowed) as error:
        act(t, p, "approve", "apply")
    assert error.value.details == {"rule": "node_actions", "node": "apply", "action": "approve"}
    with pytest.raises(Invalid, match="unknown action 'fly'"):
        act(t, p, "fly", "apply")
    with pytest.raises(Invalid, match="takes no field values"):
        act(t, p, "transfer", "apply", values={"refund_reason": "x"})


def test_a_stale_action_at_a_node_the_ticket_left_is_a_conflict():
    t = straight("a", "b")
    first = start(t).progress
    moved = act(t, first, "advance", "a").progress
    with pytest.raises(Conflict, match="not at node 'a'"):
        act(t, moved, "advance", "a")


def test_closed_and_cancelled_tickets_only_view_and_reopen():
    t = straight("a", "b")
    p = act(t, start(t).progress, "advance", "a").progress
    for action, status, at in (("close", "closed", "end"), ("cancel", "cancelled", "b")):
        ended = act(t, p, action, "b").progress
        assert (ended.status, nodes(ended)) == (status, [at])
        with pytest.raises((Conflict, NotAllowed), match=f"while the ticket is {status}"):
            act(t, ended, "advance", at)
        reopened = act(t, ended, "reopen", at).progress
        assert (reopened.status, nodes(reopened)) == ("open", ["b"])
    with pytest.raises(Conflict):
        act(t, p, "reopen", "b")


def test_edit_and_transfer_keep_the_ticket_where_it_is():
    note = {"key": "note", "label": "备注", "type": "text"}
    t = template(
        [task("a", fields={"editable": ["note"]}), task("b"), auto("end", "end")],
        [("a", "b"), ("b", "end")],
        fields=[note],
    )
    p = start(t).progress
    with pytest.raises(NotAllowed, match=r"note \(read-only\)"):
        act(t, act(t, p, "advance", "a").progress, "edit", "b", values={"note": "x"})  # unlisted: read-only
    edited, happened = act(t, p, "edit", "a", values={"note": "x"})
    assert edited.values["note"] == "x" and nodes(edited) == ["a"] and what(happened) == [("edited", "a")]
    assert p.values["note"] is None  # the old progress is untouched
    assert what(act(t, p, "transfer", "a").happened) == [("transferred", "a")]


def test_an_any_join_fires_on_the_first_branch_and_withdraws_the_others():
    t = template(
        [
            task("a"),
            auto("s", "split"),
            task("x"),
            task("y"),
            auto("j", "join", join="any"),
            task("z"),
            auto("end", "end"),
        ],
        [("a", "s"), ("s", "x"), ("s", "y"), ("x", "j"), ("y", "j"), ("j", "z"), ("z", "end")],
    )
    p, _ = act(t, start(t).progress, "advance", "a")
    p, happened = act(t, p, "advance", "y")
    assert nodes(p) == ["z"] and ("withdrawn", "x") in what(happened) and p.regions == ()


def test_progress_round_trips_through_json_and_belongs_to_one_version():
    t, p = installation_at_install()
    assert Progress.from_dict(p.to_dict(), t) == p
    with pytest.raises(Conflict, match="installation v1, not installation v2"):
        Progress.from_dict(p.to_dict(), replace(t, version=2))
    with pytest.raises(TypeError):
        p.values["remark"] = "x"  # read-only
