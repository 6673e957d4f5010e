"""What a workflow process keeps between staff actions (the tickets it acted on, the tenant's set-up and
load, services/workflow/recent.py and logview.py) never hides another process's change: two
applications on one store stand for two processes."""

import uuid
from datetime import UTC, datetime

import pytest

from shared.errors import Conflict, NotAllowed
from shared.merges import CustomerMerges

from services.workflow.bootstrap import application
from services.workflow.domain import Ticket
from services.workflow.templates.model import Template

TENANT = "acme"
FLOW = {
    "key": "fix",
    "name": "维修",
    "fields": [{"key": "note", "label": "备注", "type": "text"}],
    "nodes": [
        {
            "key": "check",
            "name": "受理",
            "handler": {"kind": "role", "value": "customer_service"},
            "actions": ["view", "edit", "advance"],
            "fields": {"editable": ["note"]},
        },
        {
            "key": "repair",
            "name": "维修",
            "handler": {"kind": "assignment_rule", "value": "least_loaded_technician"},
            "actions": ["view", "edit", "advance"],
        },
        {"key": "done", "name": "完成", "kind": "end"},
    ],
    "transitions": [{"from": "check", "to": "repair"}, {"from": "repair", "to": "done"}],
}


@pytest.fixture
def two(settings):
    """Two processes' applications on one store, the tenant set up and one ticket at `check`."""
    first, second = application(settings), application(settings)

    def hire(directory):
        directory.save_member("cs-1", roles=("customer_service",), by="tests")
        directory.save_member("cs-2", roles=("customer_service",), by="tests")
        for user in ("t-1", "t-2"):
            directory.save_member(user, roles=("technician",), by="tests")

    first.change_staff(TENANT, hire)
    publish(first, FLOW)
    yield first, second
    first.close()
    second.close()


def publish(app, template: dict) -> None:
    def publish_it(library):
        library.save_draft(Template.from_dict(template), "tests")
        library.publish(template["key"], "tests")

    app.change_library(TENANT, publish_it)


def open_ticket(app) -> uuid.UUID:
    now = datetime.now(UTC)
    ticket = Ticket.open(
        uuid.uuid4(),
        TENANT,
        app.template(TENANT, "fix"),
        customer={"name": "张三"},
        description="空调不制冷",
        channel="h5",
        assigner=app.assigner.seeing(app.load(TENANT), now),
        staff=app.staff(TENANT),
        now=now,
    )
    app.save(ticket)
    return ticket.id


def test_an_action_after_another_process_acted_starts_from_the_stored_ticket(two):
    first, second = two
    ticket = open_ticket(first)
    first.act(TENANT, ticket, "cs-1", "edit", values={"note": "a"})  # first keeps the ticket as committed
    with first.log_view.pinned():
        first.log_view.catch_up()  # first has read its log: second's action comes after, unseen
        repairer = second.act(TENANT, ticket, "cs-1", "advance").handler  # first's copy is stale now
        done = first.act(TENANT, ticket, repairer, "advance")  # refused by the stale copy: done on the stored one
    assert (done.status, done.version) == ("closed", first.ticket(ticket, TENANT).version)
    actions = [e.action for e in first.events.get(ticket) if hasattr(e, "action")]
    assert actions == ["edit", "advance", "advance"]  # nothing lost, nothing twice


def test_a_stale_copy_that_would_act_commits_nothing_of_its_own(two):
    first, second = two
    ticket = open_ticket(first)
    first.act(TENANT, ticket, "cs-1", "edit", values={"note": "a"})
    with first.log_view.pinned():
        first.log_view.catch_up()
        second.act(TENANT, ticket, "cs-1", "edit", values={"note": "b"})
        first.act(TENANT, ticket, "cs-2", "edit", values={"note": "c"})  # the stale copy's commit conflicts
    stored = first.ticket(ticket, TENANT)
    assert [e.by for e in first.events.get(ticket) if hasattr(e, "action")] == ["cs-1", "cs-1", "cs-2"]
    assert stored.version == 1 + 3  # opened, three edits, nothing more


def test_a_copy_the_log_shows_stale_is_not_acted_on(two):
    first, second = two
    ticket = open_ticket(first)
    first.act(TENANT, ticket, "cs-1", "edit", values={"note": "a"})
    second.act(TENANT, ticket, "cs-1", "edit", values={"note": "b"})
    trips = count_trips(first.recorder)
    first.act(TENANT, ticket, "cs-2", "edit", values={"note": "c"})
    assert trips == {"select_log": 1, "select_events": 1, "insert_events": 1}  # no failed commit


def test_the_version_the_actor_saw_is_checked_against_the_stored_ticket(two):
    first, second = two
    ticket = open_ticket(first)
    seen = first.act(TENANT, ticket, "cs-1", "edit", values={"note": "a"}).version
    second.act(TENANT, ticket, "cs-1", "edit", values={"note": "b"}, expected_version=seen)
    with pytest.raises(Conflict):
        first.act(TENANT, ticket, "cs-1", "edit", values={"note": "c"}, expected_version=seen)
    fresh = second.ticket(ticket, TENANT).version
    assert first.act(TENANT, ticket, "cs-1", "edit", values={"note": "c"}, expected_version=fresh).version > fresh


def test_a_staff_change_in_another_process_holds_at_the_next_action(two):
    first, second = two
    ticket = open_ticket(first)
    first.act(TENANT, ticket, "cs-1", "edit", values={"note": "a"})
    second.change_staff(TENANT, lambda d: d.remove_member("cs-1", by="tests"))
    with pytest.raises(NotAllowed):
        first.act(TENANT, ticket, "cs-1", "edit", values={"note": "b"})
    second.change_staff(TENANT, lambda d: d.save_member("cs-1", roles=("customer_service",), by="tests"))
    assert first.act(TENANT, ticket, "cs-1", "edit", values={"note": "b"}).status == "open"


def test_a_template_published_in_another_process_is_the_latest_at_once(two):
    first, second = two
    assert first.template(TENANT, "fix").version == 1
    publish(second, FLOW | {"name": "维修 v2"})
    assert (first.template(TENANT, "fix").version, first.template(TENANT, "fix").name) == (2, "维修 v2")


def test_assignments_in_another_process_count_in_the_load_at_once(two):
    first, second = two
    tickets = [open_ticket(first) for _ in range(3)]
    for ticket in tickets:
        first.act(TENANT, ticket, "cs-1", "edit", values={"note": "a"})  # first has caught up
    handlers = [second.act(TENANT, ticket, "cs-1", "advance").handler for ticket in tickets]
    assert sorted(handlers) == ["t-1", "t-1", "t-2"]  # least loaded: each count seen by the next
    assert dict(first.load(TENANT).open) == {"t-1": 2, "t-2": 1}


def test_an_action_reads_the_store_once_and_commits_once(two, settings):
    first, _ = two
    ticket = open_ticket(first)
    first.act(TENANT, ticket, "cs-1", "edit", values={"note": "a"})
    trips = count_trips(first.recorder)
    first.act(TENANT, ticket, "cs-1", "edit", values={"note": "b"})
    first.act(TENANT, ticket, "cs-1", "advance")
    assert trips == {"select_log": 2, "insert_events": 2}


def test_an_aggregate_not_there_is_not_read_again_until_the_log_shows_it(two):
    first, second = two
    merges = CustomerMerges.create_id(TENANT)
    assert first.current(merges, TENANT, CustomerMerges) is None
    trips = count_trips(first.recorder)
    assert first.current(merges, TENANT, CustomerMerges) is None
    assert trips.get("select_events", 0) == 0  # asked for on every ticket view: known absent
    learned = CustomerMerges(tenant=TENANT)
    learned.learn({"customer_id": "c-2", "merged_customer_id": "c-1", "identities": {"phone": ["138"]}})
    second.save(learned)  # another process
    assert first.current(merges, TENANT, CustomerMerges).survivor("c-1") == "c-2"


def test_what_a_process_saves_is_read_back_at_once_inside_one_request(two):
    first, _ = two
    merges = CustomerMerges.create_id(TENANT)
    with first.log_view.pinned():  # one catch-up for the whole request
        assert first.current(merges, TENANT, CustomerMerges) is None
        learned = CustomerMerges(tenant=TENANT)
        learned.learn({"customer_id": "c-2", "merged_customer_id": "c-1", "identities": {"phone": ["138"]}})
        first.save(learned)
        assert first.current(merges, TENANT, CustomerMerges) is not None


def count_trips(recorder) -> dict[str, int]:
    """Counts the recorder's reads and writes (the real ones, still called; one made inside another, as
    SQLite's select_log reads through select_notifications, is the same trip)."""
    trips: dict[str, int] = {}
    inside = []
    for name in ("select_events", "select_notifications", "select_log", "insert_events", "max_notification_id"):
        real = getattr(recorder, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            if not inside:
                trips[_name] = trips.get(_name, 0) + 1
            inside.append(_name)
            try:
                return _real(*args, **kwargs)
            finally:
                inside.pop()

        setattr(recorder, name, counted)
    return trips
